"""The loader on PostgreSQL and SQLite: upserts, VISA's semantics, rejections, transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.etl.conftest import MemorySource, at, counts, facility, rows, run
from visa_platform.db.models import Instance, InstanceMember, Role, instance_experiment
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.etl import Kind, Record, SourceError


async def test_first_load_creates_everything_in_dependency_order(etl_engine: AsyncEngine) -> None:
    report = await run(etl_engine, MemorySource(facility()))
    assert report.committed and report.rejected == 0
    assert [k.kind for k in report.kinds] == list(Kind.__members__.values())
    assert counts(report, "employer") == (2, 0, 0, 0)
    assert counts(report, "user") == (4, 0, 0, 0)
    assert counts(report, "experiment_user") == (3, 0, 0, 0)
    assert counts(report, "user_role") == (3, 0, 0, 0)  # 2 given + INSTRUMENT_SCIENTIST derived
    assert await rows(etl_engine, "SELECT id, name FROM instrument ORDER BY id") == [
        (10, "D11"),
        (11, "IN5"),
    ]
    experiments = await rows(
        etl_engine, "SELECT id, proposal_id, instrument_id, title FROM experiment ORDER BY id"
    )
    assert experiments == [("E1", 500, 10, None), ("E2", 501, 11, "Magnets, part 1")]


async def test_users_keep_visa_semantics(etl_engine: AsyncEngine) -> None:
    await run(etl_engine, MemorySource(facility()))
    users = await rows(
        etl_engine,
        "SELECT id, affiliation_id, instance_quota, activated_at IS NOT NULL FROM users "
        "ORDER BY id",
    )
    # missing affiliation is NULL (the reference loader wrote 0); missing quota is the default 2
    assert users == [
        ("1001", 1, 3, False),
        ("1002", 2, 2, False),
        ("1003", None, 2, True),
        ("1004", None, -1, False),
    ]


async def test_rerun_is_idempotent_and_changes_are_counted(etl_engine: AsyncEngine) -> None:
    await run(etl_engine, MemorySource(facility()))
    again = await run(etl_engine, MemorySource(facility()))
    assert all(k.created == k.updated == k.rejected == 0 for k in again.kinds)
    assert counts(again, "user") == (0, 0, 4, 0)

    data = facility()
    data["user"][1]["email"] = "alan@x.org"
    data["experiment"][0]["end_date"] = "2024-03-05T08:00:00+00:00"  # dates are refreshed
    data["user_role"][1]["expires_at"] = "2031-01-01T00:00:00+00:00"
    data["experiment_user"].append({"experiment_id": "E2", "user_id": "1001"})
    changed = await run(etl_engine, MemorySource(data))
    assert counts(changed, "user") == (0, 1, 3, 0)
    assert counts(changed, "experiment") == (0, 1, 1, 0)
    assert counts(changed, "user_role") == (0, 1, 2, 0)
    assert counts(changed, "experiment_user") == (1, 0, 3, 0)
    (end,) = await rows(etl_engine, "SELECT end_date FROM experiment WHERE id = 'E1'")
    assert end[0] in (at("2024-03-05 08:00"), "2024-03-05 08:00:00.000000")


async def test_quota_and_activation_are_not_cleared_by_absent_values(
    etl_engine: AsyncEngine,
) -> None:
    await run(etl_engine, MemorySource(facility()))
    data = facility()
    for user in data["user"]:
        user.pop("instance_quota", None)
        user["activated_at"] = ""  # an empty CSV cell
    report = await run(etl_engine, MemorySource(data))
    assert counts(report, "user") == (0, 0, 4, 0)
    assert await rows(
        etl_engine, "SELECT instance_quota, activated_at IS NOT NULL FROM users ORDER BY id"
    ) == [(3, False), (2, False), (2, True), (-1, False)]
    data["user"][0]["instance_quota"] = 10
    data["user"][0]["activated_at"] = "2024-05-01 10:00:00"
    report = await run(etl_engine, MemorySource(data))
    assert counts(report, "user") == (0, 1, 3, 0)
    assert await rows(etl_engine, "SELECT instance_quota FROM users WHERE id = '1001'") == [(10,)]


async def test_bad_records_are_rejected_with_their_origin_and_the_rest_loads(
    etl_engine: AsyncEngine,
) -> None:
    data = facility()
    data["user"] += [
        {"id": "1005", "first_name": "No", "last_name": ""},  # 5: required
        {"id": "1006", "last_name": "X" * 101},  # 6: oversize
        {"id": "1001", "last_name": "Again"},  # 7: duplicate
        {"id": "1007", "last_name": "Far", "affiliation_id": 99},  # 8: unknown employer
        {"id": "1008", "last_name": "Q", "instance_quota": "lots"},  # 9: type
        {"id": "0", "last_name": "Nobody"},  # 10: reserved
        {"last_name": "Keyless"},  # 11: no key at all
    ]
    data["experiment"].append(
        {
            "id": "E3",
            "proposal_id": 999,
            "instrument_id": 10,
            "start_date": "2024-05-02T00:00:00Z",
            "end_date": "2024-05-01T00:00:00Z",
        }
    )
    data["experiment_user"].append({"experiment_id": "E1", "user_id": "1007"})
    data["user_role"] += [
        {"user_id": "1001", "role": "EMPEROR"},
        {"user_id": "1001", "role": "ADMIN"},
    ]
    report = await run(etl_engine, MemorySource(data))
    assert report.committed
    user = report.kind("user")
    assert (user.created, user.rejected) == (4, 7)
    reasons = [str(r) for r in user.rejections]
    assert reasons == [
        "user:5: last_name is required",
        "user:6: last_name is longer than 100 characters (101)",
        "user:7: duplicate id; first given at user:1",
        "user:8: unknown affiliation_id 99 (no such employer row)",
        "user:9: instance_quota must be an integer, not 'lots'",
        "user:10: user id '0' is reserved (VISA's invalid user)",
        "user:11: id is required",
    ]
    experiment = report.kind("experiment")
    assert [str(r) for r in experiment.rejections] == [
        "experiment:3: end_date 2024-05-01T00:00:00+00:00 is before start_date"
    ]
    assert [str(r) for r in report.kind("experiment_user").rejections] == [
        "experiment_user:4: unknown user_id 1007 (no such users row)"
    ]
    role = report.kind("user_role")
    assert role.rejected == 1 and "unknown role 'EMPEROR'" in role.rejections[0].reason
    assert counts(report, "user_role")[0] == 4  # ADMIN may be seeded like the function roles
    assert await rows(etl_engine, "SELECT count(*) FROM users") == [(4,)]


async def test_groups_are_not_assigned_by_the_etl(etl_engine: AsyncEngine) -> None:
    async with etl_engine.begin() as conn:
        await conn.execute(
            insert(Role).values(name="BEAMLINE_42", group_created_at=at("2024-01-01"))
        )
    data = facility(user_role=[{"user_id": "1001", "role": "BEAMLINE_42"}])
    report = await run(etl_engine, MemorySource(data))
    assert "is a group" in report.kind("user_role").rejections[0].reason


async def test_abort_on_rejection_writes_nothing(etl_engine: AsyncEngine) -> None:
    data = facility()
    data["instrument"].append({"id": "ten", "name": "bad"})
    report = await run(etl_engine, MemorySource(data), abort_on_rejection=True)
    assert not report.committed and report.aborted
    assert counts(report, "user") == (4, 0, 0, 0)  # still reported as if committed
    assert await rows(etl_engine, "SELECT count(*) FROM users") == [(0,)]


async def test_dry_run_reports_and_writes_nothing(etl_engine: AsyncEngine) -> None:
    report = await run(etl_engine, MemorySource(facility()), dry_run=True)
    assert not report.committed and counts(report, "user") == (4, 0, 0, 0)
    assert await rows(etl_engine, "SELECT count(*) FROM employer") == [(0,)]


class BrokenSource(MemorySource):
    """Fails half-way through the experiments."""

    async def _stream(self, kind: Kind) -> AsyncIterator[Record]:
        async for record in super()._stream(kind):
            yield record
            if kind is Kind.EXPERIMENT:
                raise SourceError("the user office went away")


async def test_a_failed_run_changes_nothing(etl_engine: AsyncEngine) -> None:
    await run(etl_engine, MemorySource(facility()))
    data = facility()
    data["user"][0]["last_name"] = "Changed"
    with pytest.raises(SourceError, match="went away"):
        await run(etl_engine, BrokenSource(data))
    assert await rows(etl_engine, "SELECT last_name FROM users WHERE id = '1001'") == [
        ("Lovelace",)
    ]


async def test_plain_mappings_and_blocking_iterables_are_accepted(
    etl_engine: AsyncEngine,
) -> None:
    class Blocking:
        def kinds(self) -> list[Kind]:
            return [Kind.EMPLOYER]

        def records(self, kind: Kind) -> Any:
            return iter([{"id": 7, "name": "PSI"}, {"id": "x"}])

    report = await run(etl_engine, Blocking())
    assert counts(report, "employer") == (1, 0, 0, 1)
    assert str(report.kind("employer").rejections[0]) == (
        "test employer #2: id must be an integer, not 'x'"
    )
    assert not report.kind("user").supplied


async def _instance_using(engine: AsyncEngine, user_id: str, experiment_id: str) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(
            insert(Instance).values(uid="abc123", name="mine", screen_width=1, screen_height=1)
        )
        instance_id = result.inserted_primary_key[0]  # type: ignore[index]
        await conn.execute(
            insert(InstanceMember).values(
                instance_id=instance_id, user_id=user_id, role=InstanceMemberRole.OWNER
            )
        )
        await conn.execute(
            insert(instance_experiment).values(instance_id=instance_id, experiment_id=experiment_id)
        )


async def test_removal_is_explicit_dry_runnable_and_spares_what_visa_uses(
    etl_engine: AsyncEngine,
) -> None:
    data = facility()
    data["user_role"].append({"user_id": "1002", "role": "ADMIN"})
    await run(etl_engine, MemorySource(data))
    await _instance_using(etl_engine, "1001", "E1")

    smaller = facility(
        employer=[],
        user=[],
        instrument=[{"id": 11, "name": "IN5"}],
        proposal=[],
        experiment=[],
        experiment_user=[],
        instrument_scientist=[],
        user_role=[],
    )
    before = await rows(etl_engine, "SELECT count(*) FROM users")
    not_asked = await run(etl_engine, MemorySource(smaller))
    assert not_asked.kind("user").removed == 0
    assert await rows(etl_engine, "SELECT count(*) FROM users") == before

    dry = await run(etl_engine, MemorySource(smaller), prune=True, dry_run=True)
    assert await rows(etl_engine, "SELECT count(*) FROM users") == before

    report = await run(etl_engine, MemorySource(smaller), prune=True)
    for result in (dry, report):
        assert (result.kind("experiment_user").removed, result.kind("experiment_user").kept) == (
            3,
            0,
        )
        # E1 is an instance's experiment; its proposal and instrument stay with it
        assert (result.kind("experiment").removed, result.kind("experiment").kept) == (1, 1)
        assert (result.kind("proposal").removed, result.kind("proposal").kept) == (1, 1)
        assert (result.kind("instrument").removed, result.kind("instrument").kept) == (0, 1)
        # function roles go, ADMIN stays; 1001 owns an instance, 1002 is an admin
        assert result.kind("user_role").removed == 3
        assert (result.kind("user").removed, result.kind("user").kept) == (2, 2)
        assert (result.kind("employer").removed, result.kind("employer").kept) == (0, 2)
    assert await rows(etl_engine, "SELECT id FROM users ORDER BY id") == [("1001",), ("1002",)]
    assert await rows(etl_engine, "SELECT id FROM experiment") == [("E1",)]
    assert await rows(etl_engine, "SELECT user_id, role FROM instance_member") == [
        ("1001", "OWNER")
    ]
    assert await rows(etl_engine, "SELECT experiment_id FROM instance_experiment") == [("E1",)]
    roles = await rows(
        etl_engine,
        "SELECT r.name FROM user_role ur JOIN role r ON r.id = ur.role_id ORDER BY r.name",
    )
    assert roles == [("ADMIN",)]


async def test_removal_skips_a_kind_whose_records_could_not_be_keyed(
    etl_engine: AsyncEngine,
) -> None:
    await run(etl_engine, MemorySource(facility()))
    data = facility(employer=[{"id": 1, "name": "ILL"}, {"name": "no id"}])
    report = await run(etl_engine, MemorySource(data), prune=True)
    employer = report.kind("employer")
    assert employer.removed == 0 and "removal skipped" in employer.notes[0]


@pytest.mark.parametrize("db_backend", ["postgresql"])  # advisory locks; SQLite serialises
async def test_two_runs_never_overlap_on_postgresql(etl_engine: AsyncEngine) -> None:
    from sqlalchemy import func, select

    from visa_platform.etl import EtlError
    from visa_platform.etl.loader import LOCK_CLASS

    lock = func.pg_try_advisory_xact_lock(LOCK_CLASS, func.hashtext(func.current_schema()))
    async with etl_engine.connect() as other, other.begin():
        assert await other.scalar(select(lock))
        with pytest.raises(EtlError, match="another ETL run is in progress"):
            await run(etl_engine, MemorySource(facility()))
    assert counts(await run(etl_engine, MemorySource(facility())), "user") == (4, 0, 0, 0)


async def test_a_source_bug_is_reported_as_a_source_error(etl_engine: AsyncEngine) -> None:
    class Buggy(MemorySource):
        async def _stream(self, kind: Kind) -> AsyncIterator[Record]:
            yield Record({"id": 1}, "x")
            raise KeyError("institution")

    with pytest.raises(SourceError, match="reading employer failed: KeyError: 'institution'"):
        await run(etl_engine, Buggy({"employer": []}))
    assert await rows(etl_engine, "SELECT count(*) FROM employer") == [(0,)]
