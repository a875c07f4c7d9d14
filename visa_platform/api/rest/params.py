"""Query and path parameters as VISA reads them, with a clear 4xx for values it cannot use.

Paging follows spec/api.md §1.5: ``page`` >= 1 (default 1), ``limit`` 5..100 (default 25); out of
range is a 400 with the violation report VISA's bean validation returns. A query value that is not
a number or a boolean is a 400 naming the parameter (VISA answered 404, which no client depends
on). A path id that is not a number is a 404, as in VISA: such a resource cannot exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from werkzeug.datastructures import MultiDict

from visa_platform.domain.errors import BadRequest, NotFound, ValidationFailed

MAX_ID = 2**63 - 1
"""Ids are Java longs; a bigger number cannot name anything."""


@dataclass(frozen=True)
class Paging:
    """A requested page: 1-based ``page`` and its size ``limit``."""

    page: int
    limit: int


def integer(args: MultiDict[str, str], name: str) -> int | None:
    """An optional integer query parameter (empty = absent)."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadRequest(f"query parameter {name} must be an integer, got {raw[:40]!r}") from None
    if abs(value) > MAX_ID:
        raise BadRequest(f"query parameter {name} is out of range")
    return value


def boolean(args: MultiDict[str, str], name: str, default: bool = False) -> bool:
    """An optional boolean query parameter: ``true`` or ``false`` in any case (empty = default)."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise BadRequest(f"query parameter {name} must be true or false, got {raw[:40]!r}")
    return lowered == "true"


def paging(args: MultiDict[str, str], method: str, default_limit: int = 25) -> Paging:
    """``page`` and ``limit`` of a listing (§1.5); ``method`` prefixes the violation fields."""
    page = integer(args, "page")
    limit = integer(args, "limit")
    page = 1 if page is None else page
    limit = default_limit if limit is None else limit
    violations = []
    if page < 1:
        violations.append((f"{method}.page", "must be greater than or equal to 1"))
    if limit < 5:
        violations.append((f"{method}.limit", "must be greater than or equal to 5"))
    elif limit > 100:
        violations.append((f"{method}.limit", "must be less than or equal to 100"))
    if violations:
        raise ValidationFailed(violations)
    return Paging(page, limit)


def day(args: MultiDict[str, str], name: str) -> date | None:
    """An optional ``yyyy-MM-dd`` query parameter; VISA's 400 "Could not convert dates" if bad."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        raise BadRequest("Could not convert dates") from None


def repeated(args: MultiDict[str, str], name: str, legacy: str | None = None) -> tuple[str, ...]:
    """A repeatable parameter's non-empty values in order, without duplicates.

    ``legacy`` names an older comma-separated form of the same parameter, also accepted.
    """
    values = list(args.getlist(name))
    if legacy is not None:
        for item in args.getlist(legacy):
            values.extend(item.split(","))
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def path_id(raw: str, what: str) -> int:
    """A numeric path parameter; anything else (or a number too big for an id) is a 404."""
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
        raise NotFound(f"{what} not found")
    return int(raw)
