"""Run an adoption plan on the caller's transaction, verify the result, then move the sequences.

The caller owns the transaction (one for inspection, changes and verification), so any failure
rolls everything back. ``setval`` is the one thing PostgreSQL never rolls back; it runs only after
the verification passed, as the last statements before the commit.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from visa_platform.db.adopt.plan_model import Phase, Plan, Step
from visa_platform.db.adopt.verify import remaining_differences

LOCK_TIMEOUT = "15s"
"""How long a change waits for a table lock (a Java server still running holds them)."""


class AdoptionFailed(Exception):
    """A step failed (the transaction is rolled back: nothing changed)."""

    def __init__(self, message: str, step: Step | None = None) -> None:
        super().__init__(message)
        self.step = step


def apply_plan(
    conn: Connection,
    plan: Plan,
    *,
    metadata: sa.MetaData,
    keep_unknown: bool,
    on_step: Callable[[Step], None] | None = None,
) -> None:
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    steps = plan.ordered_steps()
    late = [s for s in steps if s.phase is Phase.SEQUENCE_VALUES]
    for step in [s for s in steps if s.phase is not Phase.SEQUENCE_VALUES]:
        _run(conn, step, on_step)
    left = remaining_differences(
        conn, metadata, timezone=plan.source_timezone.name, keep_unknown=keep_unknown
    )
    if left:
        raise AdoptionFailed(
            "the schema still differs from ours after the changes (a bug: please report it): "
            + "; ".join(left)
        )
    for step in late:
        _run(conn, step, on_step)


def _run(conn: Connection, step: Step, on_step: Callable[[Step], None] | None) -> None:
    if on_step is not None:
        on_step(step)
    for statement in step.sql:
        try:
            conn.exec_driver_sql(statement)
        except DBAPIError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            if "lock timeout" in reason or "LockNotAvailable" in type(exc.orig).__name__:
                reason += " (is the Java server or another client still using the database?)"
            raise AdoptionFailed(f"{step}: {reason}", step) from exc
