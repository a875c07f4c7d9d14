"""The database briefly unreachable while the command executor works, and the server meanwhile.

The outage is real: for a while the engine's sessions point at a refused port (PostgreSQL) or a
file that cannot be opened (SQLite); on PostgreSQL the connections of the engine are also killed
with ``pg_terminate_backend``. Commands are retried or failed with a reason, instance rows stay
consistent, no command is lost (at worst it runs again) and the server keeps answering.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from openstack_engine import OpenStackEngine, os_engine
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from visa_platform.db.engine import create_engine, session_factory
from visa_platform.domain.enums import InstanceCommandType, InstanceState
from visa_platform.runtime import runtime
from visa_platform.scheduler import ManualClock
from visa_platform.scheduler.commands import DATABASE_UNAVAILABLE, CommandExecutor
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.fakehttp import FakeRequest, FakeResponse

__all__ = ["os_engine"]

SERVERS = "/compute/v2.1/servers"


def unreachable_url(database: TestDatabase, tmp: Any) -> str:
    if database.backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'no-such-directory' / 'visa.db'}"
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"postgresql+asyncpg://visa@127.0.0.1:{port}/visa"


@pytest.fixture
async def unreachable(
    test_database: TestDatabase, tmp_path: Any
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(unreachable_url(test_database, tmp_path), schema=test_database.schema)
    yield session_factory(engine)
    await engine.dispose()


class Outage:
    """Stands in for ``ctx.sessions``. Once :meth:`begin` is called (or ``after`` more sessions
    were opened), sessions go to the unreachable database for ``seconds`` of the clock."""

    def __init__(
        self,
        real: async_sessionmaker[AsyncSession],
        broken: async_sessionmaker[AsyncSession],
        clock: ManualClock,
    ) -> None:
        self.real, self.broken, self.clock = real, broken, clock
        self.until: Any = None
        self.pending: tuple[int, float] | None = None
        self.refused = 0

    def begin(self, seconds: float, *, after: int = 0) -> None:
        self.pending = (after, seconds)

    def end(self) -> None:
        self.until = self.pending = None

    def __call__(self) -> AsyncSession:
        if self.pending is not None:
            after, seconds = self.pending
            if after == 0:
                self.pending = None
                self.until = self.clock.now() + timedelta(seconds=seconds)
            else:
                self.pending = (after - 1, seconds)
        if self.until is not None and self.clock.now() < self.until:
            self.refused += 1
            return self.broken()
        return self.real()


@pytest.fixture
def outage(os_engine: OpenStackEngine, unreachable: async_sessionmaker[AsyncSession]) -> Outage:
    fake = Outage(os_engine.sessions, unreachable, os_engine.clock)
    os_engine.ctx.sessions = fake  # type: ignore[assignment]
    return fake


def creates(engine: OpenStackEngine) -> int:
    return sum(1 for r in engine.cloud.requests if r.method == "POST" and r.path == SERVERS)


async def test_lost_after_the_cloud_made_the_server_the_create_resumes_without_a_duplicate(
    os_engine: OpenStackEngine, outage: Outage
) -> None:
    handle = os_engine.cloud.handle

    async def then_lose_the_database(request: FakeRequest) -> FakeResponse:
        response = await handle(request)
        if request.method == "POST" and request.path == SERVERS:
            outage.begin(2.5)  # from the write of the server id on
        return response

    os_engine.cloud.handle = then_lose_the_database  # type: ignore[method-assign]
    [instance_id] = await os_engine.add_instances(1)
    await os_engine.execute()
    assert outage.refused >= 2
    assert await os_engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
    assert creates(os_engine) == 1 and len(os_engine.cloud.servers) == 1
    assert await os_engine.compute_id(instance_id) == next(iter(os_engine.cloud.servers))


async def test_a_create_resumed_by_another_process_adopts_the_server_made_before(
    os_engine: OpenStackEngine, outage: Outage
) -> None:
    """The database goes away for good once the cloud made the server: every retry fails, the
    command stays RUNNING. Another process (a new executor) resumes it once the database is back
    and finds the server instead of creating a second one."""
    handle = os_engine.cloud.handle

    async def then_lose_the_database(request: FakeRequest) -> FakeResponse:
        response = await handle(request)
        if request.method == "POST" and request.path == SERVERS:
            outage.begin(3600)
        return response

    os_engine.cloud.handle = then_lose_the_database  # type: ignore[method-assign]
    [instance_id] = await os_engine.add_instances(1)
    await os_engine.execute()
    outage.end()
    assert await os_engine.commands(instance_id) == [("CREATE", "RUNNING", None)]
    assert (await os_engine.instance(instance_id)).compute_id is None

    successor = CommandExecutor(os_engine.ctx)
    assert await successor.recover() == 1
    await successor.run_pending()
    await successor.wait_idle()
    assert await os_engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
    assert creates(os_engine) == 1 and len(os_engine.cloud.servers) == 1
    assert await os_engine.compute_id(instance_id) == next(iter(os_engine.cloud.servers))


async def test_progress_not_saved_is_retried(os_engine: OpenStackEngine, outage: Outage) -> None:
    [instance_id] = await os_engine.add_instances(1)
    await os_engine.executor.run_pending()
    outage.begin(2.5)  # the executor cannot mark the command RUNNING at first
    await os_engine.executor.wait_idle()
    assert outage.refused >= 2
    assert await os_engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
    assert len(os_engine.cloud.servers) == 1


async def test_a_long_outage_loses_no_command(os_engine: OpenStackEngine, outage: Outage) -> None:
    [instance_id] = await os_engine.add_instances(
        1, state=InstanceState.STARTING, command=InstanceCommandType.START, server_status="SHUTOFF"
    )
    compute_id = await os_engine.compute_id(instance_id)
    await os_engine.executor.run_pending()
    outage.begin(3600)
    await os_engine.executor.wait_idle()  # gave up: the command could not even be started
    outage.end()
    assert await os_engine.commands(instance_id) == [("START", "QUEUED", None)]
    assert os_engine.cloud.servers[compute_id]["status"] == "SHUTOFF"
    await os_engine.execute()  # the next executor run takes it again
    assert await os_engine.commands(instance_id) == [("START", "TERMINATED", None)]
    assert os_engine.cloud.servers[compute_id]["OS-EXT-STS:task_state"] == "powering-on"


async def test_an_action_that_cannot_reach_the_database_fails_with_the_reason(
    os_engine: OpenStackEngine, outage: Outage
) -> None:
    [instance_id] = await os_engine.add_instances(
        1, state=InstanceState.STARTING, command=InstanceCommandType.START, server_status="SHUTOFF"
    )
    compute_id = await os_engine.compute_id(instance_id)
    await os_engine.executor.run_pending()
    # RUNNING is saved; the action's reads fail at 0, 1, 3, 7 s; the database is back at 7.5 s
    outage.begin(7.5, after=1)
    await os_engine.executor.wait_idle()
    assert await os_engine.commands(instance_id) == [
        ("START", "FAILED", "Action failed: " + DATABASE_UNAVAILABLE)
    ]
    instance = await os_engine.instance(instance_id)
    assert instance.state is InstanceState.STARTING and instance.deleted_at is None
    assert os_engine.cloud.servers[compute_id]["status"] == "SHUTOFF"  # never half-done


def record_backend_pids(engine: AsyncEngine) -> set[int]:
    pids: set[int] = set()

    @event.listens_for(engine.sync_engine, "connect")
    def _connected(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pids.add(int(cursor.fetchone()[0]))
        cursor.close()

    return pids


async def test_postgresql_connections_killed_mid_run(
    os_engine: OpenStackEngine, db_engine: AsyncEngine, test_database: TestDatabase
) -> None:
    if test_database.backend != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    app_engine = os_engine.sessions.kw["bind"]
    await app_engine.dispose()
    pids = record_backend_pids(app_engine)
    handle = os_engine.cloud.handle
    killed: list[int] = []

    async def kill(request: FakeRequest) -> FakeResponse:
        if request.method == "POST" and request.path == SERVERS and not killed:
            killed.extend(pids)  # only this engine's connections: other tests share the server
            async with db_engine.connect() as conn:
                for pid in sorted(pids):
                    await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return await handle(request)

    os_engine.cloud.handle = kill  # type: ignore[method-assign]
    ids = await os_engine.add_instances(6)
    await os_engine.execute()
    assert killed
    for instance_id in ids:
        assert await os_engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
    assert len(os_engine.cloud.servers) == 6


async def test_the_server_answers_while_its_database_is_unreachable(
    app: Any, accounts: Any, unreachable: async_sessionmaker[AsyncSession]
) -> None:
    state = runtime(app.app)
    client = app.test_client()
    token = accounts.add("1001", roles=["ADMIN"])
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/account/instances", headers=headers)).status_code == 200
    engine, sessions = state.engine, state.sessions
    state.engine, state.sessions = unreachable.kw["bind"], unreachable
    try:
        health = await asyncio.wait_for(client.get("/api/health"), 10)
        assert health.status_code == 503
        body = await health.get_json()
        assert body["data"]["databaseState"]["status"] == "NOT_OK"
        answer = await asyncio.wait_for(client.get("/api/account/instances", headers=headers), 10)
        assert answer.status_code >= 500
    finally:
        state.engine, state.sessions = engine, sessions
    assert (await client.get("/api/health")).status_code == 200
    assert (await client.get("/api/account/instances", headers=headers)).status_code == 200
