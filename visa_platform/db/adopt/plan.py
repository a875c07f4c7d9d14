"""Build the adoption plan of a database: inspect, identify, compare, check the rows.

Read-only: it runs queries and nothing else, so ``visa db adopt --check`` is exactly this, and
``visa db adopt`` is this followed by :mod:`visa_platform.db.adopt.apply` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import Connection

from visa_platform.db.adopt.catalog import ALEMBIC_TABLE, read_snapshot
from visa_platform.db.adopt.data_checks import find_problems
from visa_platform.db.adopt.identify import dbmate_problems, guess_version, not_visa
from visa_platform.db.adopt.plan_model import Phase, Plan, Problem, Step
from visa_platform.db.adopt.schema_diff import diff_schema, is_naive_timestamp
from visa_platform.db.adopt.source_timezone import SourceTimezone, known_to_database
from visa_platform.db.adopt.sql import literal
from visa_platform.db.adopt.target import target_tables


def build_plan(
    conn: Connection,
    *,
    metadata: sa.MetaData,
    timezone: SourceTimezone,
    head: str,
    is_known_revision: Callable[[str], bool],
    keep_unknown: bool = False,
) -> Plan:
    """Everything adoption would do to the database of ``conn``, and why it would refuse."""
    snapshot = read_snapshot(conn)
    plan = Plan(snapshot=snapshot, source_timezone=timezone, head=head)
    refusal = not_visa(snapshot)
    if refusal is not None:
        plan.problems.append(refusal)
        return plan
    plan.version = guess_version(snapshot)
    if snapshot.alembic_revision is not None:
        keep_unknown = True  # adopted already: what it kept then was accepted then
    plan.problems += dbmate_problems(snapshot, keep_unknown)
    if not known_to_database(conn, timezone.name):
        plan.problems.append(
            Problem(None, f"PostgreSQL does not know the time zone {timezone.name!r}")
        )
    targets = target_tables(metadata)
    diff = diff_schema(snapshot, targets, timezone=timezone.name, keep_unknown=keep_unknown)
    plan.steps = diff.steps
    plan.kept = diff.kept
    plan.preconditions = diff.preconditions
    plan.problems += diff.problems
    plan.problems += find_problems(conn, snapshot, targets, diff.preconditions)
    _alembic(plan, is_known_revision)
    _notes(plan)
    return plan


def _alembic(plan: Plan, is_known_revision: Callable[[str], bool]) -> None:
    """Stamp our revision; or recognise a database that is already ours."""
    revision = plan.snapshot.alembic_revision
    if revision is None:
        create = (
            f"CREATE TABLE {ALEMBIC_TABLE} (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
        insert = f"INSERT INTO {ALEMBIC_TABLE} (version_num) VALUES ({literal(plan.head)})"
        plan.steps.append(
            Step(
                Phase.STAMP,
                None,
                f"record revision {plan.head} in {ALEMBIC_TABLE} (`visa db upgrade` takes over)",
                (insert,) if plan.snapshot.has_alembic_table else (create, insert),
            )
        )
        return
    if not is_known_revision(revision):
        plan.problems.append(
            Problem(
                ALEMBIC_TABLE,
                f"the database is at revision {revision} of a newer visa-platform: it is "
                "already adopted, by a version newer than this one",
            )
        )
    elif revision != plan.head:
        plan.problems.append(
            Problem(
                ALEMBIC_TABLE,
                f"the database is already managed by visa-platform (revision {revision}): "
                "run `visa db upgrade`, not adoption",
            )
        )
    elif plan.structural_steps:
        plan.problems.append(
            Problem(
                ALEMBIC_TABLE,
                f"the database is at revision {revision} but its schema differs from it in "
                f"{len(plan.structural_steps)} place(s) (listed above); adoption only takes "
                "over databases of the Java server",
            )
        )
    else:
        plan.already_adopted = True
        plan.steps = []


def _notes(plan: Plan) -> None:
    snapshot = plan.snapshot
    naive = sum(
        1
        for t in snapshot.tables.values()
        for c in t.columns.values()
        if is_naive_timestamp(c.type)
    )
    if plan.source_timezone.name != snapshot.session_timezone and naive:
        plan.notes.append(
            f"An ETL that writes naive timestamps keeps its meaning only if its connection's "
            f"TimeZone is {plan.source_timezone.name}; this connection's is "
            f"{snapshot.session_timezone}. Set it for the ETL (e.g. ALTER ROLE etl SET timezone "
            f"TO {literal(plan.source_timezone.name)}) or for the database."
        )
    if snapshot.dbmate_versions is None:
        plan.notes.append("No schema_migrations table: the dump was loaded without dbmate.")
    if plan.version is not None and plan.version.missing:
        plan.notes.append(
            "Features of older releases are missing (Hibernate adds them only when used); "
            "adoption adds them: " + ", ".join(plan.version.missing)
        )
