"""Adopt a database of the Java VISA server in place (``visa db adopt``).

:func:`check` inspects and plans without writing anything; :func:`adopt` plans and applies in one
transaction, so that a refusal or a failure leaves the database exactly as it was. Modules:
``catalog`` reads the live schema, ``identify`` tells VISA and its release, ``target`` states
what our models want, ``schema_diff`` lists the changes (``id_sequences`` those of the id
sequences), ``data_checks`` finds rows that would break them, ``plan`` puts these together,
``apply`` runs a plan, ``verify`` checks the result, and ``report`` prints it for operators.
docs/migrating-from-java.md is the operator's guide.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.adopt.apply import AdoptionFailed, apply_plan
from visa_platform.db.adopt.plan import build_plan
from visa_platform.db.adopt.plan_model import Kept, Phase, Plan, Problem, Step
from visa_platform.db.adopt.source_timezone import SourceTimezone, TimezoneError, resolve

__all__ = [
    "AdoptionError",
    "AdoptionFailed",
    "AdoptionRefused",
    "Kept",
    "Phase",
    "Plan",
    "Problem",
    "Step",
    "TimezoneError",
    "adopt",
    "check",
]


class AdoptionError(Exception):
    """Adoption cannot even start (not PostgreSQL, no such schema)."""


class AdoptionRefused(Exception):
    """The plan has problems: nothing was changed. ``plan.problems`` says what and where."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(f"adoption refused: {len(plan.problems)} problem(s)")
        self.plan = plan


def _plan(conn: Connection, timezone: SourceTimezone, keep_unknown: bool) -> Plan:
    from visa_platform.db.migrate import alembic_config
    from visa_platform.db.schema import metadata

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships the baseline
        raise AdoptionError("no migration scripts found")

    def known(revision: str) -> bool:
        try:
            return script.get_revision(revision) is not None
        except Exception:
            return False

    try:
        return build_plan(
            conn,
            metadata=metadata(),
            timezone=timezone,
            head=head,
            is_known_revision=known,
            keep_unknown=keep_unknown,
        )
    except LookupError as exc:
        raise AdoptionError(str(exc)) from exc


def _require_postgresql(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        raise AdoptionError(
            "adoption needs PostgreSQL (the Java VISA server's database), "
            f"not {engine.dialect.name}"
        )


async def check(
    engine: AsyncEngine, *, source_timezone: str | None = None, keep_unknown: bool = False
) -> Plan:
    """Inspect the database and plan its adoption, in a read-only transaction."""
    _require_postgresql(engine)
    timezone = resolve(source_timezone)
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            return await conn.run_sync(_plan, timezone, keep_unknown)
        finally:
            await conn.rollback()


async def adopt(
    engine: AsyncEngine,
    *,
    source_timezone: str | None = None,
    keep_unknown: bool = False,
    on_step: Callable[[Step], None] | None = None,
) -> Plan:
    """Adopt the database in one transaction and return the plan that was carried out.

    Raises :class:`AdoptionRefused` (nothing changed) when the plan has problems, and
    :class:`AdoptionFailed` (rolled back, nothing changed) when a step fails. A database that is
    already adopted gives a plan with ``already_adopted`` set and no steps.
    """
    from visa_platform.db.schema import metadata

    _require_postgresql(engine)
    timezone = resolve(source_timezone)

    def run(conn: Connection) -> Plan:
        plan = _plan(conn, timezone, keep_unknown)
        if plan.refused:
            raise AdoptionRefused(plan)
        if not plan.already_adopted:
            apply_plan(conn, plan, metadata=metadata(), keep_unknown=keep_unknown, on_step=on_step)
        return plan

    async with engine.begin() as conn:
        return await conn.run_sync(run)
