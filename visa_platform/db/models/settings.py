"""Free configuration pairs and application credentials (spec/domain.md §1.3, end)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from visa_platform.db.base import Base
from visa_platform.db.types import BigIntPK, UTCDateTime


class Configuration(Base):
    """A key/value pair returned to the web client as ``metadata`` (maintained by hand or ETL)."""

    __tablename__ = "configuration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(256))
    value: Mapped[str] = mapped_column(String(8192))


class ApplicationCredential(Base):
    """HTTP Basic credential of a machine client (APPLICATION_CREDENTIAL role), soft-deleted."""

    __tablename__ = "application_credential"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(250))
    application_id: Mapped[str] = mapped_column(String(255))
    application_secret: Mapped[str] = mapped_column(String(255))
    salt: Mapped[str] = mapped_column(String(255))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
