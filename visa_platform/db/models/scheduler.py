"""The scheduler's leader lease (no VISA table: the Java server used a static primary flag)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from visa_platform.db.base import Base
from visa_platform.db.types import UTCDateTime


class SchedulerLease(Base):
    """Who runs the scheduled jobs: one row per lease, held by one process until it expires."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
