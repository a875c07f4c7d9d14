"""The loader: one run of a source into VISA's tables, in one transaction.

For each kind, in dependency order (:data:`~visa_platform.etl.kinds.LOAD_ORDER`):

1. stream the source's records in batches, check each one in a worker thread and stage it
   (a temporary table; records whose key is unusable are reported and not staged);
2. in SQL: reject later duplicates of a key, then records naming rows that do not exist;
3. update the rows that differ, insert the new ones (counting created/updated/unchanged).

Then, only when asked, remove rows the source no longer has (see :mod:`.removal`). A dry run, an
aborted run (``abort_on_rejection``) and a failed run roll everything back. Instances, sessions and
members are never written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import (
    Table,
    Text,
    and_,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from visa_platform.etl import removal, staging
from visa_platform.etl.kinds import (
    DERIVED_ROLE,
    FUNCTION_ROLES,
    LOAD_ORDER,
    SPECS,
    Kind,
    KindSpec,
)
from visa_platform.etl.progress import NoProgress, Progress
from visa_platform.etl.report import KindReport, Rejection, RunReport
from visa_platform.etl.source import EtlSource, Record, SourceError
from visa_platform.etl.streams import batches
from visa_platform.etl.validate import Validator

log = logging.getLogger("visa_platform.etl")

LOCK_CLASS = 0x56455446  # "VETF"; with the schema's hash: one run at a time per VISA schema
DERIVED_SEQ = 10**15  # derived role rows sort after every record of the source


class EtlError(Exception):
    """The run cannot proceed (another run holds the lock, the roles are missing ...)."""


@dataclass(frozen=True)
class LoadOptions:
    """How a run behaves (docs/etl.md, "Configuration")."""

    dry_run: bool = False
    prune: bool = False
    abort_on_rejection: bool = False
    batch_size: int = 5000
    max_reported: int = 20
    zone: tzinfo | None = None
    default_quota: int = 2
    managed_roles: tuple[str, ...] = FUNCTION_ROLES


async def load(
    engine: AsyncEngine,
    source: EtlSource,
    *,
    name: str,
    options: LoadOptions | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Run ``source`` into the database of ``engine``; commits unless dry or aborted."""
    options = options or LoadOptions()
    report = RunReport(source=name, dry_run=options.dry_run, prune=options.prune, kinds=[])
    started = time.perf_counter()
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await _Run(conn, source, name, options, progress or NoProgress(), report).execute()
        except BaseException:
            await transaction.rollback()
            raise
        if options.abort_on_rejection and report.rejected:
            report.aborted = f"{report.rejected} record(s) rejected and abort_on_rejection is set"
        if options.dry_run or report.aborted:
            await transaction.rollback()
        else:
            await transaction.commit()
            report.committed = True
    report.seconds = time.perf_counter() - started
    log.info(
        "event=etl_run source=%s dry_run=%s committed=%s rejected=%d seconds=%.1f",
        name,
        options.dry_run,
        report.committed,
        report.rejected,
        report.seconds,
    )
    return report


class _Run:
    def __init__(
        self,
        conn: AsyncConnection,
        source: EtlSource,
        name: str,
        options: LoadOptions,
        progress: Progress,
        report: RunReport,
    ) -> None:
        self.conn = conn
        self.source = source
        self.name = name
        self.options = options
        self.progress = progress
        self.report = report
        from visa_platform.db.schema import metadata

        self.tables: Mapping[str, Table] = metadata().tables
        self.roles: dict[str, int] = {}
        self.groups: frozenset[str] = frozenset()
        self.stages: dict[Kind, Table] = {}
        self.unkeyed: dict[Kind, int] = {}

    async def execute(self) -> None:
        await self._lock()
        supplied = self._supplied()
        await self._load_roles(supplied)
        for kind in LOAD_ORDER:
            started = time.perf_counter()
            kind_report = KindReport(kind, supplied=kind in supplied)
            self.report.kinds.append(kind_report)
            await self._load_kind(SPECS[kind], kind_report)
            kind_report.seconds = time.perf_counter() - started
        if self.options.prune:
            await self._prune(supplied)
        for stage in self.stages.values():
            await staging.drop(self.conn, stage)

    # -- preparation ------------------------------------------------------------------------

    async def _lock(self) -> None:
        if self.conn.dialect.name != "postgresql":
            return  # SQLite serialises writers itself
        got = await self.conn.scalar(
            select(func.pg_try_advisory_xact_lock(LOCK_CLASS, func.hashtext(func.current_schema())))
        )
        if not got:
            raise EtlError("another ETL run is in progress on this database; try again later")

    def _supplied(self) -> set[Kind]:
        kinds = set()
        for kind in self.source.kinds():
            try:
                kinds.add(Kind(kind))
            except ValueError:
                raise SourceError(f"source {self.name} offers an unknown kind {kind!r}") from None
        return kinds

    async def _load_roles(self, supplied: set[Kind]) -> None:
        role = self.tables["role"]
        rows = (
            await self.conn.execute(select(role.c.id, role.c.name, role.c.group_created_at))
        ).all()
        self.roles = {r.name: r.id for r in rows if r.group_created_at is None}
        self.groups = frozenset(r.name for r in rows if r.group_created_at is not None)
        if Kind.INSTRUMENT_SCIENTIST in supplied and DERIVED_ROLE not in self.roles:
            raise EtlError(
                f"the role table has no {DERIVED_ROLE} role: start the server once (it seeds "
                "the roles) before loading instrument scientists"
            )

    # -- one kind ---------------------------------------------------------------------------

    async def _load_kind(self, spec: KindSpec, report: KindReport) -> None:
        stage = staging.stage_table(spec, self.tables[spec.table])
        self.stages[spec.kind] = stage
        await staging.create(self.conn, stage)
        unkeyed: list[Rejection] = []
        if report.supplied:
            unkeyed = await self._stage_records(spec, stage, report)
        if spec.kind is Kind.USER_ROLE:
            derived = await self._derive_roles(stage)
            if derived:
                report.notes.append(
                    f"{derived} {DERIVED_ROLE} role(s) derived from instrument_scientist records"
                )
        await staging.finish(self.conn, stage, spec.key)
        await self._reject_duplicates(spec, stage)
        await self._reject_unknown_references(spec, stage)
        await self._count_rejections(stage, report, unkeyed)
        await self._apply(spec, stage, report)

    async def _stage_records(
        self, spec: KindSpec, stage: Table, report: KindReport
    ) -> list[Rejection]:
        validator = Validator(spec, zone=self.options.zone, roles=self.roles, groups=self.groups)
        unkeyed: list[Rejection] = []
        unkeyed_count = 0
        hint = getattr(self.source, "size_hint", None)
        total = await asyncio.to_thread(hint, spec.kind) if callable(hint) else None
        self.progress.begin(spec.kind, total)
        seq = 0
        try:
            async for batch in self._read(spec.kind):
                rows, rejected = await asyncio.to_thread(
                    self._check_batch, validator, batch, seq, spec.kind
                )
                seq += len(batch)
                unkeyed_count += len(rejected)
                room = self.options.max_reported - len(unkeyed)
                unkeyed.extend(rejected[: max(room, 0)])
                await staging.insert(self.conn, stage, rows)
                self.progress.advance(len(batch))
        finally:
            self.progress.end()
        report.received = seq
        self.unkeyed[spec.kind] = unkeyed_count
        if validator.unknown_fields:
            names = ", ".join(sorted(validator.unknown_fields))
            report.notes.append(f"ignored unknown field(s): {names}")
        return unkeyed

    async def _read(self, kind: Kind) -> AsyncIterator[list[Any]]:
        """The source's batches; whatever goes wrong inside the source becomes a SourceError."""
        try:
            async for batch in batches(self.source.records(kind), self.options.batch_size):
                yield batch
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(
                f"source {self.name}: reading {kind} failed: {type(exc).__name__}: {exc}"
            ) from exc

    def _check_batch(
        self, validator: Validator, batch: Sequence[Any], first_seq: int, kind: Kind
    ) -> tuple[list[tuple[Any, ...]], list[Rejection]]:
        rows: list[tuple[Any, ...]] = []
        rejected: list[Rejection] = []
        for offset, item in enumerate(batch, start=1):
            seq = first_seq + offset
            if isinstance(item, Record):
                fields, origin = item.fields, item.origin
                if item.problem is not None:
                    rejected.append(Rejection(seq, origin, item.problem))
                    continue
            elif isinstance(item, Mapping):
                fields, origin = item, f"{self.name} {kind} #{seq}"
            else:
                reason = f"not a record but {type(item).__name__}"
                rejected.append(Rejection(seq, f"{self.name} {kind} #{seq}", reason))
                continue
            checked = validator.check(fields)
            if not checked.key_known:
                rejected.append(Rejection(seq, origin, checked.problem or "unusable key"))
                continue
            rows.append((*checked.values, seq, origin, checked.problem))
        return rows, rejected

    async def _derive_roles(self, stage: Table) -> int:
        """Stage INSTRUMENT_SCIENTIST for the users of valid instrument_scientist records."""
        scientists = self.stages[Kind.INSTRUMENT_SCIENTIST]
        role_id = self.roles.get(DERIVED_ROLE)
        if role_id is None:
            return 0
        given = exists().where(stage.c.user_id == scientists.c.user_id, stage.c.role_id == role_id)
        derived = (
            select(
                scientists.c.user_id,
                literal(role_id),
                null(),
                literal(DERIVED_SEQ) + func.min(scientists.c.seq),
                literal("instrument_scientist records of ") + scientists.c.user_id,
                null(),
            )
            .where(scientists.c.problem.is_(None), ~given)
            .group_by(scientists.c.user_id)
        )
        columns = ["user_id", "role_id", "expires_at", *staging.BOOKKEEPING]
        result = await self.conn.execute(stage.insert().from_select(columns, derived))
        return max(result.rowcount, 0)

    async def _reject_duplicates(self, spec: KindSpec, stage: Table) -> None:
        earlier = stage.alias("earlier")
        same_key = [earlier.c[k] == stage.c[k] for k in spec.key]
        first_origin = (
            select(earlier.c.origin)
            .where(*same_key)
            .order_by(earlier.c.seq)
            .limit(1)
            .scalar_subquery()
        )
        what = " and ".join(spec.key)
        await self.conn.execute(
            update(stage)
            .where(
                stage.c.problem.is_(None),
                exists().where(*same_key, earlier.c.seq < stage.c.seq),
            )
            .values(problem=literal(f"duplicate {what}; first given at ") + first_origin)
        )

    async def _reject_unknown_references(self, spec: KindSpec, stage: Table) -> None:
        for ref in spec.references:
            target = self.tables[ref.table]
            value = stage.c[ref.field]
            missing = ~exists().where(target.c[ref.column] == value)
            await self.conn.execute(
                update(stage)
                .where(stage.c.problem.is_(None), value.is_not(None), missing)
                .values(
                    problem=literal(f"unknown {ref.field} ")
                    + cast(value, Text)
                    + literal(f" (no such {ref.table} row)")
                )
            )

    async def _count_rejections(
        self, stage: Table, report: KindReport, unkeyed: list[Rejection]
    ) -> None:
        staged = await self.conn.scalar(
            select(func.count()).select_from(stage).where(stage.c.problem.is_not(None))
        )
        first = await self.conn.execute(
            select(stage.c.seq, stage.c.origin, stage.c.problem)
            .where(stage.c.problem.is_not(None))
            .order_by(stage.c.seq)
            .limit(self.options.max_reported)
        )
        listed = [*unkeyed] + [Rejection(r.seq, r.origin, r.problem) for r in first]
        report.rejected = int(staged or 0) + self.unkeyed.get(report.kind, 0)
        report.rejections = sorted(listed)[: self.options.max_reported]

    async def _apply(self, spec: KindSpec, stage: Table, report: KindReport) -> None:
        target = self.tables[spec.table]
        valid = stage.c.problem.is_(None)
        same_key = and_(*(target.c[k] == stage.c[k] for k in spec.key))
        if spec.updatable:
            new = {
                c: func.coalesce(stage.c[c], target.c[c])
                if c in spec.keep_when_null
                else stage.c[c]
                for c in spec.updatable
            }
            changed = or_(*(target.c[c].is_distinct_from(v) for c, v in new.items()))
            result = await self.conn.execute(
                update(target).where(same_key, valid, changed).values(new)
            )
            report.updated = max(result.rowcount, 0)
        values = [
            func.coalesce(stage.c[c], self.options.default_quota).label(c)
            if c == "instance_quota"
            else stage.c[c]
            for c in spec.columns
        ]
        insert = _insert(self.conn, target).from_select(
            list(spec.columns), select(*values).where(valid, ~exists().where(same_key))
        )
        result = await self.conn.execute(insert.on_conflict_do_nothing())
        report.created = max(result.rowcount, 0)
        total_valid = await self.conn.scalar(select(func.count()).select_from(stage).where(valid))
        report.unchanged = int(total_valid or 0) - report.created - report.updated

    # -- removal ----------------------------------------------------------------------------

    async def _prune(self, supplied: set[Kind]) -> None:
        managed = [self.roles[r] for r in self.options.managed_roles if r in self.roles]
        for kind in reversed(LOAD_ORDER):
            report = self.report.kind(kind)
            if kind not in supplied:
                continue
            if self.unkeyed.get(kind):
                report.notes.append(
                    "removal skipped: some records had no usable key, so absence is unknown"
                )
                continue
            removed, kept = await removal.remove_absent(
                self.conn, SPECS[kind], self.stages[kind], self.tables, managed
            )
            report.removed, report.kept = removed, kept


def _insert(conn: AsyncConnection, target: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)
