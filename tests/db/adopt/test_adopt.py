"""Adopting a Java VISA database: every row kept and readable, our exact schema, ETL still works.

Each test builds the Java server's database from DDL written from the spec (tests/db/adopt/
java_visa_schema.py), in two versions: the 2022 dump with its dbmate migrations, and a 3.8
database with every table and column added since.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from adopt_rig import fingerprint
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from java_visa_schema import SOURCE_TIMEZONE
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db import adopt, migrate
from visa_platform.db.adopt.catalog import Snapshot, read_snapshot
from visa_platform.db.adopt.report import format_report
from visa_platform.db.base import Base
from visa_platform.db.engine import session_factory
from visa_platform.db.migrate import head_revision
from visa_platform.db.models import (
    ClientAuthenticationToken,
    Experiment,
    Instance,
    InstanceActivity,
    InstanceCommand,
    InstanceExpiration,
    InstanceMember,
    InstanceSession,
    Role,
    User,
    UserRole,
)
from visa_platform.db.schema import metadata
from visa_platform.domain.enums import (
    InstanceCommandState,
    InstanceCommandType,
    InstanceMemberRole,
    InstanceState,
)
from visa_platform.testing.databases import engine_for, temporary_database

BuildJava = Callable[[str], Awaitable[AsyncEngine]]

LEGACY = {
    "2022": {
        ("remove_table", "schema_migrations"),
        ("remove_column", "users.affiliation"),
        ("remove_column", "instance_session_member.last_seen_at"),
    },
}
LEGACY["3.8"] = LEGACY["2022"] | {("remove_column", "protocol.optional")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def described(difference: tuple[Any, ...]) -> tuple[str, str]:
    kind = difference[0]
    if kind == "remove_table":
        return kind, difference[1].name
    if kind in ("add_column", "remove_column"):
        return kind, f"{difference[2]}.{difference[3].name}"
    return kind, repr(difference[1:])


async def alembic_differences(engine: AsyncEngine) -> set[tuple[str, str]]:
    def compare(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata()))

    async with engine.connect() as conn:
        return {described(d) for d in await conn.run_sync(compare)}


def shape(snapshot: Snapshot, legacy: set[tuple[str, str]]) -> dict[str, Any]:
    """The schema without its data: what must equal a database built by our migrations."""
    kept_tables = {name for kind, name in legacy if kind == "remove_table"}
    kept_columns = {tuple(name.split(".")) for kind, name in legacy if kind == "remove_column"}
    tables = {}
    for name, table in snapshot.tables.items():
        if name in kept_tables:
            continue
        tables[name] = {
            "columns": {
                c.name: (c.type, c.nullable, c.default, c.identity)
                for c in table.columns.values()
                if (name, c.name) not in kept_columns
            },
            "constraints": sorted(
                (c.name, c.kind, c.columns, c.definition, c.ref_table, c.on_delete)
                for c in table.constraints
            ),
            "indexes": sorted((i.name, i.columns, i.unique, i.predicate) for i in table.indexes),
        }
    sequences = {
        s.name: (s.data_type, s.increment, s.owner, s.identity) for s in snapshot.sequences.values()
    }
    return {"tables": tables, "sequences": sequences}


async def baseline_shape(tmp_path: Path) -> dict[str, Any]:
    """The shape of a database that `visa db upgrade` builds from nothing."""
    async with temporary_database("postgresql", tmp_path) as db:
        engine = engine_for(db)
        try:
            await migrate.upgrade(engine, db.schema)
            async with engine.connect() as conn:
                return shape(await conn.run_sync(read_snapshot), set())
        finally:
            await engine.dispose()


@pytest.mark.parametrize("version", ["2022", "3.8"])
async def test_adoption_keeps_every_row_and_gives_our_schema(
    java_database: BuildJava, version: str, tmp_path: Path
) -> None:
    engine = await java_database(version)
    before, _ = await fingerprint(engine)

    plan = await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE)

    assert not plan.refused and not plan.already_adopted
    report = format_report(plan, database="test", applied=True)
    assert f"Source time zone: {SOURCE_TIMEZONE} (from --source-timezone)" in report
    assert "Adoption made" in report
    # the schema is ours: alembic sees only the legacy objects we keep on purpose ...
    assert await alembic_differences(engine) == LEGACY[version]
    # ... and so does a comparison of the whole catalogue with a database built by migrations
    async with engine.connect() as conn:
        after = await conn.run_sync(read_snapshot)
    assert shape(after, LEGACY[version]) == await baseline_shape(tmp_path / "baseline")
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await migrate.upgrade(engine, after.schema) == (migrate.head_revision(),) * 2

    # every row is still there, and every one is readable through the models
    for name, table in before.tables.items():
        assert after.tables[name].rows == table.rows, name
    sessions = session_factory(engine)
    async with sessions() as session:
        for mapper in Base.registry.mappers:
            loaded = (await session.scalars(select(mapper.class_))).all()
            assert len(loaded) == after.tables[mapper.local_table.name].rows  # type: ignore[union-attr]
        await check_instances(session, version)
        await check_times(session)
    await check_sequences_are_ahead(engine, version)
    await check_etl_still_writes(engine)


async def check_instances(session: Any, version: str) -> None:
    """Running instances keep state, members, sessions, pending commands and expiry dates."""
    states = dict((await session.execute(select(Instance.id, Instance.state))).all())
    assert states == {
        1: InstanceState.PARTIALLY_ACTIVE if version == "3.8" else InstanceState.ACTIVE,
        2: InstanceState.STOPPED,
        3: InstanceState.ACTIVE_MIGRATING if version == "3.8" else InstanceState.BUILDING,
        4: InstanceState.ERROR,
        7: InstanceState.DELETED,
    }
    members = (
        await session.execute(
            select(InstanceMember.user_id, InstanceMember.role).where(
                InstanceMember.instance_id == 1
            )
        )
    ).all()
    assert sorted(members) == [
        ("1001", InstanceMemberRole.OWNER),
        ("1003", InstanceMemberRole.USER),
        ("1006", InstanceMemberRole.SUPPORT),
    ]
    current = await session.scalar(select(InstanceSession).where(InstanceSession.current))
    assert (current.instance_id, current.connection_id) == (1, "guac-conn-1")
    pending = (
        await session.scalars(
            select(InstanceCommand).where(InstanceCommand.state == InstanceCommandState.PENDING)
        )
    ).all()
    assert [(c.instance_id, c.action_type, c.user_id) for c in pending] == [
        (2, InstanceCommandType.START, "1002")
    ]
    expirations = dict(
        (
            await session.execute(
                select(InstanceExpiration.instance_id, InstanceExpiration.expiration_date)
            )
        ).all()
    )
    # naive Europe/Paris times became instants: summer is UTC+2, winter UTC+1
    assert expirations == {1: utc(2026, 7, 15, 16), 2: utc(2026, 2, 10, 13)}
    instance = await session.get(Instance, 1)
    assert instance.termination_date == utc(2026, 7, 15, 16)
    if version == "3.8":
        assert instance.expiration_date == utc(2026, 7, 15, 16)
        assert instance.public_access_role is InstanceMemberRole.USER
        assert instance.vdi_protocol_id == 2
    deleted = await session.get(Instance, 7)
    assert deleted.deleted_at == utc(2024, 4, 1, 8)
    assert deleted.created_at == utc(2024, 3, 31, 0, 30)  # 01:30 CET, half an hour before DST


async def check_times(session: Any) -> None:
    starts = dict((await session.execute(select(Experiment.id, Experiment.start_date))).all())
    assert starts["exp-2026-001"] == utc(2026, 3, 29, 6)  # the morning DST began
    assert starts["exp-2026-002"] == utc(2026, 10, 24, 23, 30)  # the night DST ended
    user = await session.get(User, "1004")
    assert user.last_seen_at == utc(2026, 6, 30, 21, 59, 59)


async def check_sequences_are_ahead(engine: AsyncEngine, version: str) -> None:
    """New rows get ids past every existing one (and a sequence that was ahead stays ahead)."""
    async with session_factory(engine)() as session:
        instance = Instance(uid="NewOne12", name="fresh", screen_width=1, screen_height=1)
        role = Role(name="NEW_GROUP")
        session.add_all([instance, role])
        await session.flush()
        expiration = InstanceExpiration(instance_id=instance.id, expiration_date=utc(2027, 1, 1))
        session.add(expiration)
        await session.flush()
        assert instance.id == 8  # the Java sequence stood at 5, behind instance 7
        assert role.id == (10 if version == "3.8" else 9)
        assert expiration.id == 101  # that sequence was at 100: never moved back
        if version == "3.8":
            activity = InstanceActivity(user_id="1001", instance_id=1, activity_type="MOUSE")
            token = ClientAuthenticationToken(client_id="c", token="t", user_id="1001")
            session.add_all([activity, token])
            await session.flush()
            assert (activity.id, token.id) == (3, 2)  # identity and dbmate sequences carried on
        await session.rollback()


async def check_etl_still_writes(engine: AsyncEngine) -> None:
    """The ETL's upserts on the original columns, with naive local timestamps, keep working."""
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"SET LOCAL TimeZone = '{SOURCE_TIMEZONE}'")
        await conn.execute(
            text(
                "INSERT INTO users (id, first_name, last_name, email, affiliation_id, "
                "instance_quota, activated_at) VALUES "
                "('1007', 'New', 'Person', 'np@example.org', 1, 2, '2026-07-03 10:00:00'), "
                "('1001', 'Janet', 'Doe', 'jdoe@example.org', 1, 5, '2021-02-01 10:00:00') "
                "ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, "
                "last_name = excluded.last_name, email = excluded.email, "
                "affiliation_id = excluded.affiliation_id, "
                "instance_quota = excluded.instance_quota, activated_at = excluded.activated_at"
            )
        )
        # the reference loader's ON CONFLICT DO NOTHING needs the key the dump lacked
        await conn.execute(
            text(
                "INSERT INTO user_role (user_id, role_id) VALUES ('1007', 2), ('1001', 2) "
                "ON CONFLICT DO NOTHING"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO experiment (id, proposal_id, instrument_id, start_date, end_date) "
                "VALUES ('exp-2027', 502, 11, '2027-01-10 08:00:00', '2027-01-12 08:00:00') "
                "ON CONFLICT (id) DO UPDATE SET proposal_id = excluded.proposal_id, "
                "instrument_id = excluded.instrument_id"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO experiment_user (experiment_id, user_id) VALUES ('exp-2027', '1007') "
                "ON CONFLICT DO NOTHING"
            )
        )
    async with session_factory(engine)() as session:
        new_user = await session.get(User, "1007")
        assert new_user.activated_at == utc(2026, 7, 3, 8)
        assert (await session.get(User, "1001")).first_name == "Janet"
        roles_of_1001 = await session.scalar(
            select(func.count()).select_from(UserRole).where(UserRole.user_id == "1001")
        )
        assert roles_of_1001 == 2
        experiment = await session.get(Experiment, "exp-2027")
        assert experiment.start_date == utc(2027, 1, 10, 7)


async def test_adopting_twice_is_harmless(java_database: BuildJava) -> None:
    engine = await java_database("2022")
    await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE)
    adopted = await fingerprint(engine)

    again = await adopt.adopt(engine, source_timezone="Asia/Tokyo")
    checked = await adopt.check(engine)

    assert again.already_adopted and again.steps == []
    assert checked.already_adopted and not checked.refused
    assert "Already adopted" in format_report(checked, database="test", applied=False)
    assert await fingerprint(engine) == adopted


async def test_check_reports_everything_and_writes_nothing(java_database: BuildJava) -> None:
    engine = await java_database("3.8")
    before = await fingerprint(engine)

    plan = await adopt.check(engine, source_timezone=SOURCE_TIMEZONE)

    assert await fingerprint(engine) == before
    assert not plan.refused
    assert plan.version is not None and plan.version.release == "3.8.2 or later"
    report = format_report(plan, database="test", applied=False, show_sql=True)
    flat = " ".join(report.split())  # the report wraps long lines
    for expected in [
        "Looks like: Java VISA 3.8.2 or later",
        "dbmate migrations: 20220314151039, 20220324082055, 20220406071949, 20240729154500, "
        "20260203135600",
        "Adoption would make",
        "user_role: add primary key user_role_pkey (user_id, role_id)",
        "instance: convert 9 timestamp(s) to timestamptz, reading them as Europe/Paris local time",
        "USING created_at AT TIME ZONE 'Europe/Paris'",
        "personal_access_token: replace check personal_access_token_role_check by "
        "personal_access_token_role_check",
        "cloud_provider_configuration_parameter: replace foreign key "
        "fk_cloud_provider_configuration_id by",
        "instance_activity: make user_id NOT NULL",
        "instance_activity: replace the identity of id by sequence instance_activity_id_seq",
        "instance: rename index instance_uid_idx to uk_instance_uid",
        f"record revision {head_revision()} in alembic_version",
        "column users.affiliation: legacy",
        "table schema_migrations: dbmate's record",
    ]:
        assert expected in flat, expected


async def test_a_2022_database_looks_like_2_x_and_gets_every_new_table(
    java_database: BuildJava,
) -> None:
    engine = await java_database("2022")

    plan = await adopt.check(engine, source_timezone=SOURCE_TIMEZONE)

    assert plan.version is not None and plan.version.release == "2.0.0 or later"
    created = {s.table for s in plan.steps if s.phase is adopt.Phase.TABLES}
    assert created == {
        "application_credential",
        "cloud_provider_configuration",
        "cloud_provider_configuration_parameter",
        "instance_extension_request",
        "instance_activity",
        "acknowledged_system_notification",
        "personal_access_token",
        "flavour_role_lifetime",
        "device_pool",
        "flavour_device",
        "instance_device_allocation",
        "cloud_resources",
        "hypervisor",
        "hypervisor_resource",
        "hypervisor_allocation",
        "booking_configuration",
        "booking_configuration_flavour",
        "booking_role_configuration",
        "booking_flavour_role_configuration",
        "booking_request",
        "booking_request_flavour",
        "booking_request_history",
        "booking_token",
        "booking_token_history",
        "client_authentication_token",
        "scheduler_lease",  # ours, not VISA's
        "notification_outbox",  # ours, not VISA's
    }
    added = {str(s) for s in plan.steps if s.phase is adopt.Phase.COLUMNS}
    assert "user_role: add column expires_at timestamp with time zone" in added
    assert "instance: add column booking_token_id bigint" in added
