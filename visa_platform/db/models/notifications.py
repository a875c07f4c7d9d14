"""System notifications and their acknowledgements (spec/domain.md §1.5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from visa_platform.db.base import Base, Timestampable
from visa_platform.db.types import BigIntPK, UTCDateTime, enum_column_type
from visa_platform.domain.enums import SystemNotificationLevel, SystemNotificationType


class SystemNotification(Timestampable, Base):
    """A banner or modal message shown to every user while activated (soft-deleted)."""

    __tablename__ = "system_notification"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    message: Mapped[str] = mapped_column(String(4096))
    level: Mapped[SystemNotificationLevel] = mapped_column(
        enum_column_type(SystemNotificationLevel, name="system_notification_level")
    )
    type: Mapped[SystemNotificationType | None] = mapped_column(
        enum_column_type(SystemNotificationType, name="system_notification_type")
    )
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AcknowledgedSystemNotification(Base):
    """A user dismissed a (modal) notification."""

    __tablename__ = "acknowledged_system_notification"

    system_notification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("system_notification.id"), primary_key=True
    )
    acknowledged_by_user_id: Mapped[str] = mapped_column(
        String(250), ForeignKey("users.id"), primary_key=True
    )
