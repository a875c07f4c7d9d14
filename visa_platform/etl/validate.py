"""Checking and converting one record's fields into the values the loader stages.

Value rules (docs/etl.md): an empty string means null; integers may be given as text; text may be
given as an integer (ids); timestamps are ISO 8601 text, ``datetime`` or ``date``; a timestamp
without an offset is local time in the configured time zone. Every problem of a record is reported
together in one reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any

from visa_platform.etl.kinds import FieldSpec, FieldType, Kind, KindSpec

_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")

Converter = Callable[[Any], Any]


class Invalid(Exception):
    """A field value that cannot be used; the message is the reason."""


@dataclass(frozen=True)
class Checked:
    """A record after checking: the staged values (by ``spec.columns``), or why it is rejected.

    ``key_known`` is false when the key itself is unusable, so the record cannot be staged.
    """

    values: tuple[Any, ...]
    problem: str | None
    key_known: bool


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _int_converter(spec: FieldSpec) -> Converter:
    low, high = spec.minimum, spec.maximum

    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise Invalid(f"{spec.name} must be an integer, not {value!r}")
        if isinstance(value, int):
            number = value
        elif (isinstance(value, str) and _INT_TEXT.match(value)) or _integral(value):
            number = int(value)
        else:
            raise Invalid(f"{spec.name} must be an integer, not {_show(value)}")
        if (low is not None and number < low) or (high is not None and number > high):
            raise Invalid(f"{spec.name} {number} is out of range ({low} to {high})")
        return number

    return convert


def _integral(value: Any) -> bool:
    """A float or Decimal with no fractional part (what some databases return for integers)."""
    if not isinstance(value, float | Decimal):
        return False
    try:
        return bool(value == int(value))
    except (ValueError, OverflowError, ArithmeticError):
        return False


def _str_converter(spec: FieldSpec) -> Converter:
    limit = spec.max_length

    def convert(value: Any) -> str:
        if isinstance(value, str):
            text = value
        elif isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        else:
            raise Invalid(f"{spec.name} must be text, not {_show(value)}")
        if limit is not None and len(text) > limit:
            raise Invalid(f"{spec.name} is longer than {limit} characters ({len(text)})")
        if "\x00" in text:
            raise Invalid(f"{spec.name} contains a NUL character")
        return text

    return convert


def _datetime_converter(spec: FieldSpec, zone: tzinfo | None) -> Converter:
    def convert(value: Any) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                raise Invalid(
                    f"{spec.name} must be an ISO 8601 timestamp, not {_show(value)}"
                ) from None
        else:
            raise Invalid(f"{spec.name} must be a timestamp, not {_show(value)}")
        if moment.tzinfo is None:
            # Naive values are local time of the facility (VISA stores local time).
            moment = moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
        return moment.astimezone(UTC)

    return convert


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _converter(spec: FieldSpec, zone: tzinfo | None) -> Converter:
    if spec.type is FieldType.INT:
        return _int_converter(spec)
    if spec.type is FieldType.STR:
        return _str_converter(spec)
    return _datetime_converter(spec, zone)


class Validator:
    """Checks the records of one kind (built once per run and kind)."""

    def __init__(
        self,
        spec: KindSpec,
        *,
        zone: tzinfo | None = None,
        roles: Mapping[str, int] | None = None,
        groups: frozenset[str] = frozenset(),
    ) -> None:
        self.spec = spec
        self._fields = [(f, _converter(f, zone)) for f in spec.fields]
        self._key = set(spec.key) | ({"role"} if spec.kind is Kind.USER_ROLE else set())
        self._roles = dict(roles or {})
        self._groups = groups
        self._known = {f.name for f in spec.fields}
        self.unknown_fields: set[str] = set()

    def check(self, fields: Mapping[str, Any]) -> Checked:
        """Check one record's fields; never raises for bad data."""
        problems: list[str] = []
        values: list[Any] = []
        key_known = True
        for spec, convert in self._fields:
            raw = fields.get(spec.name)
            if _is_blank(raw):
                if spec.required:
                    problems.append(f"{spec.name} is required")
                    key_known = key_known and spec.name not in self._key
                values.append(None)
                continue
            try:
                value = convert(raw)
                if spec.name == "role":
                    value = self._role_id(value)
                values.append(value)
            except Invalid as exc:
                problems.append(str(exc))
                key_known = key_known and spec.name not in self._key
                values.append(None)
        if self.spec.kind is Kind.USER and values[0] == "0":
            problems.append("user id '0' is reserved (VISA's invalid user)")
        if self.spec.kind is Kind.EXPERIMENT and not problems:
            start, end = values[3], values[4]
            if start > end:
                problems.append(f"end_date {end.isoformat()} is before start_date")
        if len(self.unknown_fields) < 20:
            self.unknown_fields.update(k for k in fields if k not in self._known)
        if problems:
            return Checked(tuple(values), "; ".join(problems), key_known)
        return Checked(tuple(values), None, True)

    def _role_id(self, name: str) -> int:
        if name in self._groups:
            raise Invalid(f"{name!r} is a group; groups are managed in VISA, not by the ETL")
        role_id = self._roles.get(name)
        if role_id is None:
            known = ", ".join(sorted(self._roles)) or "none: the role table is empty"
            raise Invalid(f"unknown role {name!r} (known: {known})")
        return role_id
