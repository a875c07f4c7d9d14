"""JSON as VISA writes it: dates ``2026-03-25T13:15:36.123+00:00``, enums by name, keys in order."""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from quart.json.provider import DefaultJSONProvider


def format_datetime(value: datetime) -> str:
    """UTC, milliseconds, colon offset (Jackson's ``StdDateFormat`` as VISA configures it)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a response")
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+00:00"


def encode(value: Any) -> Any:
    """What the standard encoder cannot do itself."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Decimal):
        return float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


class VisaJSONProvider(DefaultJSONProvider):
    """Quart's provider with VISA's formats; keys keep the order the DTO builders give them."""

    sort_keys = False
    ensure_ascii = False
    default = staticmethod(encode)
