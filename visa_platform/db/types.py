"""Column types that behave the same on PostgreSQL and SQLite.

* ``UTCDateTime`` stores an aware datetime as UTC: ``timestamptz`` on PostgreSQL, naive UTC text on
  SQLite (whose driver would otherwise silently drop the offset). Naive datetimes are rejected.
* ``BigIntPK`` is ``BIGINT`` on PostgreSQL and ``INTEGER`` on SQLite, so that it is a rowid
  there and autoincrements.
* ``JSONType`` is ``JSONB`` on PostgreSQL and ``JSON`` on SQLite.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Enum, Integer, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

BigIntPK = BigInteger().with_variant(Integer, "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A time-zone-aware timestamp, always stored and returned in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required (use UTC)")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column_type(enum_class: type[enum.Enum], name: str, length: int = 50) -> Enum:
    """A ``VARCHAR(length)`` holding the enum *name*, with a named CHECK constraint (VISA's shape).

    ``name`` becomes the constraint name through the metadata naming convention, e.g.
    ``instance_state_check`` for ``name="instance_state"``.
    """
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        create_constraint=True,
        name=name,
        validate_strings=True,
    )


def utcnow() -> datetime:
    """The current time, aware, in UTC (the only clock models and services use)."""
    return datetime.now(UTC)


__all__: list[Any] = ["BigIntPK", "JSONType", "UTCDateTime", "enum_column_type", "utcnow"]
