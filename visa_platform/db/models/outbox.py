"""The notification outbox (no VISA table: the Java server sent emails from memory).

One row per (notification, channel): written when a notification is queued, claimed by one
process at a time while it is being delivered, then marked SENT or FAILED. Pending rows survive
a restart and are delivered by whichever replica claims them first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from visa_platform.db.base import Base, Timestampable
from visa_platform.db.types import BigIntPK, UTCDateTime


class NotificationOutbox(Timestampable, Base):
    """A notification waiting for (or done with) its delivery through one channel."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uk_notification_outbox_delivery"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    notification_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)  # PENDING, SENT, FAILED
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
