"""Declarative base with deterministic constraint names, and the Timestampable mixin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import MetaData, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from visa_platform.db.types import UTCDateTime, utcnow

# VISA's own constraint names follow PostgreSQL's defaults (<table>_pkey, <table>_<col>_check ...);
# the convention reproduces them so that schema.sql and migrations are deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uk_%(table_name)s_%(column_0_N_name)s",
    "ck": "%(constraint_name)s_check",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "%(table_name)s_pkey",
}


class Base(DeclarativeBase):
    """Base class of every model. Table and column names are VISA's."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestampable:
    """VISA's ``created_at``/``updated_at`` pair, set on insert and on every update."""

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        nullable=False,
        default=utcnow,
        onupdate=utcnow,
        server_default=text("CURRENT_TIMESTAMP"),
    )
