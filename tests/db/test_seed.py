"""Startup fixtures (spec/domain.md §1.1 roles, §1.3 protocols), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from visa_platform.db.models import Protocol, Role
from visa_platform.db.seed import seed_fixtures

ROLES = {
    "ADMIN": "Administrator Role",
    "STAFF": "Staff Role",
    "IT_SUPPORT": "IT Support Role",
    "INSTRUMENT_SCIENTIST": "Instrument Scientist Role",
    "INSTRUMENT_CONTROL": "Instrument Control Role",
    "SCIENTIFIC_COMPUTING": "Scientific Computing Role",
    "GUEST": "Guest Role",
}
PROTOCOLS = {
    "RDP": 3389,
    "GUACD": 4822,
    "JUPYTER": 8888,
    "WEBX": 5555,
    "VISA_FS": 8090,
    "VISA_PRINT": 8091,
}


async def _roles(session: AsyncSession) -> dict[str, str | None]:
    rows = await session.execute(select(Role.name, Role.description))
    return {name: description for name, description in rows}


async def _protocols(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Protocol.name, Protocol.port))
    return {name: port for name, port in rows}


async def test_seed_creates_the_roles_and_protocols(db_session: AsyncSession) -> None:
    await seed_fixtures(db_session)
    await db_session.commit()
    assert await _roles(db_session) == ROLES
    assert await _protocols(db_session) == PROTOCOLS
    groups = select(func.count()).where(Role.group_created_at.is_not(None))
    assert await db_session.scalar(groups) == 0


async def test_seed_is_idempotent(db_session: AsyncSession) -> None:
    await seed_fixtures(db_session)
    await db_session.commit()
    await seed_fixtures(db_session)
    await db_session.commit()
    assert await db_session.scalar(select(func.count()).select_from(Role)) == 7
    assert await db_session.scalar(select(func.count()).select_from(Protocol)) == 6


async def test_seed_flushes_but_does_not_commit(db_session: AsyncSession) -> None:
    await seed_fixtures(db_session)
    assert await db_session.scalar(select(func.count()).select_from(Role)) == 7
    await db_session.rollback()
    assert await db_session.scalar(select(func.count()).select_from(Role)) == 0
    assert await db_session.scalar(select(func.count()).select_from(Protocol)) == 0


async def test_groups_do_not_count_as_roles(db_session: AsyncSession) -> None:
    """A database holding only groups still gets the roles (roles have no group_created_at)."""
    db_session.add(Role(name="beamline-team", group_created_at=datetime(2024, 1, 1, tzinfo=UTC)))
    await db_session.flush()
    await seed_fixtures(db_session)
    assert set(await _roles(db_session)) == {*ROLES, "beamline-team"}


async def test_existing_rows_are_left_alone(db_session: AsyncSession) -> None:
    """Like VISA, each table is seeded only when it holds none: nothing is added or changed."""
    db_session.add_all(
        [Role(name="ADMIN", description="Local admins"), Protocol(name="VNC", port=5900)]
    )
    await db_session.flush()
    await seed_fixtures(db_session)
    assert await _roles(db_session) == {"ADMIN": "Local admins"}
    assert await _protocols(db_session) == {"VNC": 5900}


async def test_ensure_fixtures_survives_a_replica_seeding_concurrently(
    db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from visa_platform.db import seed
    from visa_platform.db.engine import session_factory

    sessions = session_factory(db_engine)
    real_seed = seed.seed_fixtures
    raced = False

    async def racing_seed(session: AsyncSession) -> None:
        nonlocal raced
        if not raced:
            raced = True
            # the other replica commits its fixtures between our check and our insert
            await session.scalar(select(func.count()).select_from(Role))
            async with sessions() as other:
                await real_seed(other)
                await other.commit()
            session.add_all(Role(name=n.value) for n in seed.ROLE_DESCRIPTIONS)
            await session.flush()
            return
        await real_seed(session)

    monkeypatch.setattr(seed, "seed_fixtures", racing_seed)
    await seed.ensure_fixtures(sessions)
    assert raced
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Role)) == 7
        assert await session.scalar(select(func.count()).select_from(Protocol)) == 6
