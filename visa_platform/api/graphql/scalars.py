"""The custom scalars: a time-zone-aware ``DateTime`` and ``BigInteger`` (spec/api.md §5.1).

tartiflette's built-in ``DateTime`` accepts only naive ``YYYY-MM-DDTHH:MM:SS``; ours writes
ISO-8601 with an explicit UTC offset and reads any ISO-8601 value (naive values are UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tartiflette import Scalar
from tartiflette.constants import UNDEFINED_VALUE
from tartiflette.language.ast import IntValueNode, StringValueNode


def format_datetime(value: datetime) -> str:
    """UTC, milliseconds, ``Z``: ``2026-03-25T14:15:36.123Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_datetime(value: str) -> datetime:
    """Any ISO-8601 date-time; a value without an offset is taken as UTC."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class DateTimeScalar:
    """``DateTime``: ISO-8601 strings with an offset."""

    def coerce_output(self, value: Any) -> str:
        if isinstance(value, datetime):
            return format_datetime(value)
        raise TypeError(f"DateTime cannot represent {value!r}")

    def coerce_input(self, value: Any) -> datetime:
        if not isinstance(value, str):
            raise TypeError(f"DateTime cannot represent {value!r}")
        try:
            return parse_datetime(value)
        except ValueError:
            raise TypeError(f"DateTime cannot represent {value!r}") from None

    def parse_literal(self, ast: Any) -> Any:
        if not isinstance(ast, StringValueNode):
            return UNDEFINED_VALUE
        try:
            return parse_datetime(ast.value)
        except ValueError:
            return UNDEFINED_VALUE


class BigIntegerScalar:
    """``BigInteger``: an integer of any size, a JSON number."""

    def coerce_output(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"BigInteger cannot represent {value!r}")
        return value

    def coerce_input(self, value: Any) -> int:
        if isinstance(value, bool):
            raise TypeError(f"BigInteger cannot represent {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise TypeError(f"BigInteger cannot represent {value!r}")

    def parse_literal(self, ast: Any) -> Any:
        if isinstance(ast, IntValueNode | StringValueNode):
            try:
                return int(ast.value)
            except ValueError:
                return UNDEFINED_VALUE
        return UNDEFINED_VALUE


def register_scalars(schema_name: str) -> None:
    """Register both scalars for one engine's schema (before the engine is cooked)."""
    Scalar("DateTime", schema_name=schema_name)(DateTimeScalar())
    Scalar("BigInteger", schema_name=schema_name)(BigIntegerScalar())
