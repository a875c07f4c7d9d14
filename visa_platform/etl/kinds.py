"""The kinds of records an ETL source supplies, their fields, keys and load order (domain.md §9.1).

Each kind fills one VISA table. Field names are the table's column names, except ``user_role``
whose ``role`` field names the role (``STAFF`` ...) and is turned into ``role_id`` by the loader.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.StrEnum):
    """A kind of facility record; the value is the name used in files, queries and reports."""

    EMPLOYER = "employer"
    USER = "user"
    INSTRUMENT = "instrument"
    PROPOSAL = "proposal"
    EXPERIMENT = "experiment"
    EXPERIMENT_USER = "experiment_user"
    INSTRUMENT_SCIENTIST = "instrument_scientist"
    USER_ROLE = "user_role"


class FieldType(enum.Enum):
    """How a field's value is checked and converted."""

    INT = "integer"
    STR = "text"
    DATETIME = "timestamp"


INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a kind: its type, whether it is required, and its limits."""

    name: str
    type: FieldType
    required: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Reference:
    """A field that must name an existing row of ``table`` (``column``)."""

    field: str
    table: str
    column: str = "id"


@dataclass(frozen=True)
class KindSpec:
    """Everything the loader needs to know about a kind."""

    kind: Kind
    table: str
    key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    references: tuple[Reference, ...] = ()
    keep_when_null: tuple[str, ...] = ()
    """Columns that a null (or absent) value never overwrites (``users.activated_at`` ...)."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The target columns the loader writes (``user_role`` stages ``role_id``, not ``role``)."""
        return tuple("role_id" if f.name == "role" else f.name for f in self.fields)

    @property
    def updatable(self) -> tuple[str, ...]:
        """Columns an existing row may change (none for the pure link tables)."""
        return tuple(c for c in self.columns if c not in self.key)


def _bigint(name: str, required: bool = False) -> FieldSpec:
    return FieldSpec(name, FieldType.INT, required, minimum=INT64[0], maximum=INT64[1])


def _text(name: str, max_length: int, required: bool = False) -> FieldSpec:
    return FieldSpec(name, FieldType.STR, required, max_length=max_length)


def _time(name: str, required: bool = False) -> FieldSpec:
    return FieldSpec(name, FieldType.DATETIME, required)


SPECS: dict[Kind, KindSpec] = {
    Kind.EMPLOYER: KindSpec(
        Kind.EMPLOYER,
        "employer",
        ("id",),
        (
            _bigint("id", True),
            _text("name", 200),
            _text("town", 100),
            _text("country_code", 10),
        ),
    ),
    Kind.USER: KindSpec(
        Kind.USER,
        "users",
        ("id",),
        (
            _text("id", 250, True),
            _text("first_name", 100),
            _text("last_name", 100, True),
            _text("email", 100),
            _bigint("affiliation_id"),
            FieldSpec("instance_quota", FieldType.INT, minimum=-1, maximum=INT32[1]),
            _time("activated_at"),
        ),
        references=(Reference("affiliation_id", "employer"),),
        keep_when_null=("instance_quota", "activated_at"),
    ),
    Kind.INSTRUMENT: KindSpec(
        Kind.INSTRUMENT, "instrument", ("id",), (_bigint("id", True), _text("name", 250, True))
    ),
    Kind.PROPOSAL: KindSpec(
        Kind.PROPOSAL,
        "proposal",
        ("id",),
        (
            _bigint("id", True),
            _text("identifier", 100, True),
            _text("title", 2000),
            _text("summary", 5000),
            _time("public_at"),
            _text("url", 2000),
            _text("doi", 2000),
        ),
    ),
    Kind.EXPERIMENT: KindSpec(
        Kind.EXPERIMENT,
        "experiment",
        ("id",),
        (
            _text("id", 32, True),
            _bigint("proposal_id", True),
            _bigint("instrument_id", True),
            _time("start_date", True),
            _time("end_date", True),
            _text("title", 2000),
            _text("url", 2000),
            _text("doi", 2000),
        ),
        references=(Reference("proposal_id", "proposal"), Reference("instrument_id", "instrument")),
    ),
    Kind.EXPERIMENT_USER: KindSpec(
        Kind.EXPERIMENT_USER,
        "experiment_user",
        ("experiment_id", "user_id"),
        (_text("experiment_id", 32, True), _text("user_id", 250, True)),
        references=(Reference("experiment_id", "experiment"), Reference("user_id", "users")),
    ),
    Kind.INSTRUMENT_SCIENTIST: KindSpec(
        Kind.INSTRUMENT_SCIENTIST,
        "instrument_scientist",
        ("instrument_id", "user_id"),
        (_bigint("instrument_id", True), _text("user_id", 250, True)),
        references=(Reference("instrument_id", "instrument"), Reference("user_id", "users")),
    ),
    Kind.USER_ROLE: KindSpec(
        Kind.USER_ROLE,
        "user_role",
        ("user_id", "role_id"),
        (_text("user_id", 250, True), _text("role", 100, True), _time("expires_at")),
        references=(Reference("user_id", "users"),),
    ),
}

LOAD_ORDER: tuple[Kind, ...] = (
    Kind.EMPLOYER,
    Kind.USER,
    Kind.INSTRUMENT,
    Kind.PROPOSAL,
    Kind.EXPERIMENT,
    Kind.EXPERIMENT_USER,
    Kind.INSTRUMENT_SCIENTIST,
    Kind.USER_ROLE,
)
"""Dependency order. ``user_role`` comes last so that the INSTRUMENT_SCIENTIST role can be derived
from this run's ``instrument_scientist`` records (VISA's reference loader loads roles before them;
neither depends on the other)."""

FUNCTION_ROLES: tuple[str, ...] = (
    "STAFF",
    "INSTRUMENT_CONTROL",
    "IT_SUPPORT",
    "SCIENTIFIC_COMPUTING",
    "INSTRUMENT_SCIENTIST",
)
"""Roles the ETL manages by default: removal of absent records only ever touches these."""

DERIVED_ROLE = "INSTRUMENT_SCIENTIST"
"""Given to every user of an ``instrument_scientist`` record (support access needs both)."""


def parse_kind(name: str) -> Kind:
    """The kind called ``name``; ValueError listing the known kinds otherwise."""
    try:
        return Kind(name)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown record kind {name!r} (known: {known})") from None
