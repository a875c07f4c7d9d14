"""Adoption changes nothing at all when it refuses or fails, and says what and where."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from adopt_rig import fingerprint, run_script
from java_visa_schema import SOURCE_TIMEZONE
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db import adopt
from visa_platform.db.adopt.plan_model import Phase, Plan, Step
from visa_platform.db.adopt.report import format_report
from visa_platform.testing.databases import TestDatabase

BuildJava = Callable[[str], Awaitable[AsyncEngine]]


class Boom(Exception):
    pass


@pytest.mark.parametrize(
    "phase",
    [Phase.TYPES, Phase.STAMP, Phase.SEQUENCE_VALUES],
    ids=lambda p: p.name.lower(),
)
async def test_a_failure_at_any_step_changes_nothing(
    java_database: BuildJava, phase: Phase
) -> None:
    engine = await java_database("3.8")
    before = await fingerprint(engine)
    seen: list[Step] = []

    def fail_at(step: Step) -> None:
        seen.append(step)
        if step.phase is phase:
            raise Boom(str(step))

    with pytest.raises(Boom):
        await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE, on_step=fail_at)

    assert len(seen) > 1  # the failure came after other changes had been made
    assert await fingerprint(engine) == before


async def test_a_statement_the_database_rejects_rolls_everything_back(
    java_database: BuildJava, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await java_database("2022")
    before = await fingerprint(engine)
    ordered = Plan.ordered_steps

    def with_a_bad_step(plan: Plan) -> list[Step]:
        steps = ordered(plan)
        bad = Step(Phase.INDEXES, "instance", "a bad step", ("ALTER TABLE instance ADD uid text",))
        return [*steps[:-3], bad, *steps[-3:]]

    monkeypatch.setattr(Plan, "ordered_steps", with_a_bad_step)
    with pytest.raises(adopt.AdoptionFailed, match=r"instance: a bad step: .*uid.* already exists"):
        await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE)

    assert await fingerprint(engine) == before
    monkeypatch.undo()
    plan = await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE)  # and then it works
    assert plan.steps and not plan.refused


async def refused(engine: AsyncEngine, **options: object) -> Plan:
    """Adopt must refuse, change nothing, and ``check`` must find the same problems."""
    before = await fingerprint(engine)
    with pytest.raises(adopt.AdoptionRefused) as caught:
        await adopt.adopt(engine, **options)  # type: ignore[arg-type]
    assert await fingerprint(engine) == before
    checked = await adopt.check(engine, **options)  # type: ignore[arg-type]
    assert [str(p) for p in checked.problems] == [str(p) for p in caught.value.plan.problems]
    return caught.value.plan


def problems(plan: Plan) -> str:
    return "\n".join(str(p) for p in plan.problems)


async def test_rows_that_break_a_needed_constraint_are_named(
    java_database: BuildJava, pg_database: TestDatabase
) -> None:
    engine = await java_database("2022")
    s = pg_database.schema
    await run_script(
        engine,
        f"""
        INSERT INTO {s}.user_role (user_id, role_id) VALUES ('1001', 1), ('1006', 3), ('1006', 3);
        INSERT INTO {s}.image_protocol (image_id, protocol_id) VALUES (2, 1);
        UPDATE {s}.instance SET state = 'HIBERNATING' WHERE id = 4;
        UPDATE {s}.instance_member SET role = 'OBSERVER' WHERE id = 8;
        UPDATE {s}.image SET autologin = repeat('x', 300) WHERE id = 2;
        INSERT INTO {s}.instance (id, uid, created_at, updated_at, name, screen_height,
            screen_width, state) VALUES (9, 'aB3dE5gH', now(), now(), 'twin', 1, 1, 'STOPPED');
        """,
    )

    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE)

    text = problems(plan)
    assert (
        "user_role: 2 value(s) of (user_id, role_id) occur more than once, which primary key "
        "user_role_pkey forbids; offending rows: user_id='1001', role_id=1 (2 rows); "
        "user_id='1006', role_id=3 (3 rows)"
    ) in text
    assert "image_protocol: 1 value(s) of (image_id, protocol_id)" in text
    assert "offending rows: image_id=2, protocol_id=1 (2 rows)" in text
    assert (
        "instance: 1 row(s) where state holds a value that check instance_state_check does not "
        "allow "
        "(ACTIVE, PARTIALLY_ACTIVE, ACTIVE_MIGRATING, BUILDING, DELETED, DELETING, ERROR, "
        "STARTING, STOPPED, STOPPING, REBOOTING, MIGRATING, UNAVAILABLE, UNKNOWN); "
        "offending rows: id=4 (state='HIBERNATING')"
    ) in text
    assert (
        "instance_member: 1 row(s) where role holds a value that check instance_member_role_check"
        in text
    )
    assert "offending rows: id=8 (role='OBSERVER')" in text
    assert (
        "image: 1 row(s) where autologin is longer than 255 characters (type character "
        "varying(255)); offending rows: id=2"
    ) in text
    assert "instance: 1 value(s) of (uid) occur more than once, which unique index" in text
    assert "uid='aB3dE5gH' (2 rows)" in text
    report = format_report(plan, database="test", applied=False)
    assert "Adoption refused (6 problem(s)); nothing was changed:" in report


async def test_rows_pointing_nowhere_and_missing_values_are_named(
    java_database: BuildJava, pg_database: TestDatabase
) -> None:
    engine = await java_database("3.8")
    s = pg_database.schema
    await run_script(
        engine,
        f"""
        INSERT INTO {s}.instance_activity (created_at, updated_at, user_id, instance_id,
            activity_type) VALUES (now(), now(), NULL, 2, 'MOUSE');
        ALTER TABLE {s}.instance DROP CONSTRAINT fk_plan_id;
        UPDATE {s}.instance SET plan_id = 99 WHERE id = 3;
        """,
    )

    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE)

    text = problems(plan)
    assert (
        "instance_activity: 1 row(s) where user_id is null, which NOT NULL on user_id forbids; "
        "offending rows: id=3"
    ) in text
    assert (
        "instance: 1 row(s) where (plan_id) point at plan rows that do not exist (foreign key "
        "fk_instance_plan_id); offending rows: id=3 (plan_id=99)"
    ) in text


async def test_refuses_a_database_that_is_not_visa(
    engine: AsyncEngine, pg_database: TestDatabase
) -> None:
    plan = await refused(engine, source_timezone="UTC")
    assert f"schema {pg_database.schema} has no tables: nothing to adopt" in problems(plan)

    await run_script(
        engine,
        f"CREATE TABLE {pg_database.schema}.orders (id int PRIMARY KEY, total numeric);"
        f"INSERT INTO {pg_database.schema}.orders VALUES (1, 9.99);",
    )
    plan = await refused(engine, source_timezone="UTC")
    assert f"schema {pg_database.schema} is not a VISA database" in problems(plan)
    assert "found orders" in problems(plan)


async def test_refuses_a_visa_database_with_core_tables_missing(
    java_database: BuildJava, pg_database: TestDatabase
) -> None:
    engine = await java_database("2022")
    await run_script(engine, f"DROP TABLE {pg_database.schema}.instance_thumbnail")
    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE)
    assert "is not a complete VISA database: tables instance_thumbnail are missing" in problems(
        plan
    )


async def test_refuses_an_unknown_future_version(
    java_database: BuildJava, pg_database: TestDatabase
) -> None:
    engine = await java_database("2022")
    await run_script(
        engine,
        f"INSERT INTO {pg_database.schema}.schema_migrations VALUES ('20270412093000'), "
        "('20230101000000')",
    )

    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE)
    assert (
        "schema_migrations: unknown future version: dbmate migration(s) 20270412093000 are "
        "newer than the newest this version of visa-platform knows (20260203135600)"
    ) in problems(plan)
    assert "unknown dbmate migration(s) 20230101000000" in problems(plan)

    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE, keep_unknown=True)
    assert "unknown future version" in problems(plan)
    assert "20230101000000" not in problems(plan)


async def test_refuses_a_database_adopted_by_a_newer_visa_platform(
    java_database: BuildJava, pg_database: TestDatabase
) -> None:
    engine = await java_database("2022")
    await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE)
    await run_script(
        engine, f"UPDATE {pg_database.schema}.alembic_version SET version_num = '0042_future'"
    )
    plan = await refused(engine)
    assert "at revision 0042_future of a newer visa-platform" in problems(plan)


async def test_unknown_tables_and_columns_are_kept_only_when_asked(
    java_database: BuildJava, pg_database: TestDatabase
) -> None:
    engine = await java_database("2022")
    s = pg_database.schema
    await run_script(
        engine,
        f"""
        CREATE TABLE {s}.site_notes (id serial PRIMARY KEY, instance_id bigint
            REFERENCES {s}.instance(id), note text);
        INSERT INTO {s}.site_notes (instance_id, note) VALUES (1, 'hello');
        ALTER TABLE {s}.instance ADD COLUMN site_flag boolean;
        CREATE INDEX site_instance_name ON {s}.instance (name);
        CREATE VIEW {s}.active_instances AS SELECT id, name FROM {s}.instance;
        """,
    )
    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE)
    assert "site_notes: unknown table (1 rows)" in problems(plan)
    assert "instance: unknown column site_flag (boolean)" in problems(plan)

    await run_script(
        engine, f"ALTER TABLE {s}.instance ADD COLUMN site_code text NOT NULL DEFAULT 'x'"
    )
    await run_script(engine, f"ALTER TABLE {s}.instance ADD COLUMN site_owner text")
    await run_script(engine, f"UPDATE {s}.instance SET site_owner = 'me'")
    await run_script(engine, f"ALTER TABLE {s}.instance ALTER COLUMN site_owner SET NOT NULL")
    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE, keep_unknown=True)
    assert problems(plan) == (
        "instance: unknown column site_owner is NOT NULL without a default: this server could "
        "not insert rows into the table"
    )

    await run_script(engine, f"ALTER TABLE {s}.instance DROP COLUMN site_owner")
    plan = await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE, keep_unknown=True)
    kept = {str(k) for k in plan.kept}
    assert "table site_notes: unknown to this version, kept (--keep-unknown)" in kept
    assert "column instance.site_flag: unknown to this version (--keep-unknown)" in kept
    assert "index site_instance_name on instance: extra index" in kept
    assert "view active_instances: view, kept as it is" in kept
    again = await adopt.adopt(engine)  # without --keep-unknown: what was kept stays accepted
    assert again.already_adopted and not again.refused


async def test_a_view_on_a_column_to_convert_is_reported(
    java_database: BuildJava, pg_database: TestDatabase
) -> None:
    engine = await java_database("2022")
    s = pg_database.schema
    await run_script(engine, f"CREATE VIEW {s}.recent AS SELECT id, created_at FROM {s}.instance")
    plan = await refused(engine, source_timezone=SOURCE_TIMEZONE)
    assert problems(plan) == (
        "instance: the type of column created_at must change but view(s) recent use it: drop "
        "them before adoption and create them again afterwards"
    )


async def test_refuses_an_unknown_time_zone(java_database: BuildJava) -> None:
    engine = await java_database("2022")
    with pytest.raises(adopt.TimezoneError, match="'Mars/Olympus' is not a time zone name"):
        await adopt.adopt(engine, source_timezone="Mars/Olympus")
