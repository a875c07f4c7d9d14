"""The vocabulary of an adoption plan: steps (changes), preconditions on rows, problems, the plan.

A plan is computed from a read-only inspection. Its steps are in execution order; its
preconditions are what the rows must satisfy for the steps to succeed (checked before anything
is written); a problem is a precondition that failed, or anything else that makes adoption refuse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from visa_platform.db.adopt.catalog import Snapshot
from visa_platform.db.adopt.source_timezone import SourceTimezone


class Phase(enum.IntEnum):
    """Execution order of the steps (a later phase may rely on an earlier one)."""

    LEGACY = 1
    TYPES = 2
    COLUMNS = 3
    NULLABILITY = 4
    DEFAULTS = 5
    PRIMARY_KEYS = 6
    TABLES = 7
    CHECKS = 8
    UNIQUES = 9
    INDEXES = 10
    FOREIGN_KEYS = 11
    SEQUENCES = 12
    STAMP = 13
    SEQUENCE_VALUES = 14
    """``setval`` is not transactional in PostgreSQL: these run last, after verification."""


STRUCTURAL_PHASES = frozenset(p for p in Phase if p not in (Phase.STAMP, Phase.SEQUENCE_VALUES))


@dataclass(frozen=True)
class Step:
    """One change, described for the operator, with the SQL that makes it."""

    phase: Phase
    table: str | None
    summary: str
    sql: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.table}: {self.summary}" if self.table else self.summary


@dataclass(frozen=True)
class Precondition:
    """Rows of ``table`` must satisfy this before a step can run."""

    kind: str
    """``not_null``, ``unique``, ``values_in``, ``max_length`` or ``references``."""
    table: str
    columns: tuple[str, ...]
    what: str
    """The constraint that needs it, for the report (e.g. ``primary key user_role_pkey``)."""
    values: tuple[str, ...] = ()
    max_length: int = 0
    predicate: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    ref_exists: bool = True


@dataclass(frozen=True)
class Problem:
    """Why adoption refuses: what and where, with the offending keys when rows are at fault."""

    table: str | None
    message: str
    keys: tuple[str, ...] = ()
    count: int = 0

    def __str__(self) -> str:
        where = f"{self.table}: " if self.table else ""
        text = f"{where}{self.message}"
        if self.keys:
            more = (
                f" (and {self.count - len(self.keys)} more)" if self.count > len(self.keys) else ""
            )
            text += "; offending rows: " + "; ".join(self.keys) + more
        return text


@dataclass(frozen=True)
class Kept:
    """Something adoption leaves in place on purpose."""

    kind: str
    """``table``, ``column``, ``index``, ``constraint``, ``sequence`` or ``view``."""
    table: str | None
    name: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.name}" if self.kind == "column" else self.name
        on = f" on {self.table}" if self.table and self.kind != "column" else ""
        return f"{self.kind} {where}{on}: {self.reason}"


@dataclass(frozen=True)
class VersionGuess:
    """Which Java VISA release the schema looks like, from the features present."""

    release: str
    """e.g. ``3.8.2 or later``, ``2.0 (2022 dump)``."""
    present: tuple[str, ...]
    missing: tuple[str, ...]
    """Features of releases up to ``release`` that are absent (Hibernate adds them lazily)."""
    dbmate_versions: tuple[str, ...]


@dataclass
class Diff:
    """What a comparison found: steps, preconditions on rows, problems, objects kept."""

    steps: list[Step] = field(default_factory=list)
    preconditions: list[Precondition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)


@dataclass
class Plan:
    snapshot: Snapshot
    source_timezone: SourceTimezone
    head: str
    version: VersionGuess | None = None
    steps: list[Step] = field(default_factory=list)
    preconditions: list[Precondition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    """Objects adoption deliberately leaves in place, each with the reason."""
    notes: list[str] = field(default_factory=list)
    already_adopted: bool = False

    @property
    def structural_steps(self) -> list[Step]:
        return [s for s in self.steps if s.phase in STRUCTURAL_PHASES]

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    def ordered_steps(self) -> list[Step]:
        return sorted(self.steps, key=lambda s: s.phase)  # stable: keeps order within a phase
