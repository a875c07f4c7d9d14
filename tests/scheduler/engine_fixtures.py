"""The lifecycle-engine test kit: a scriptable cloud, instances, an engine context."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from visa_platform.compute import (
    BackendConfig,
    Capability,
    CloudClients,
    CloudInstance,
    CloudNotFoundError,
    ComputeBackend,
    InstanceRequest,
)
from visa_platform.config import Settings
from visa_platform.db.engine import create_engine, session_factory
from visa_platform.db.models import (
    Flavour,
    Image,
    Instance,
    InstanceCommand,
    InstanceMember,
    Plan,
    Protocol,
    User,
)
from visa_platform.db.seed import seed_fixtures
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import (
    CloudInstanceState,
    InstanceCommandState,
    InstanceCommandType,
    InstanceMemberRole,
    InstanceState,
)
from visa_platform.events.broker import Event, LocalBroker
from visa_platform.plugin import PluginHost, hookimpl
from visa_platform.plugin.registry import Register, Registry
from visa_platform.plugin.types import InstanceEvent
from visa_platform.scheduler import ManualClock
from visa_platform.services.instance_actions import EngineContext
from visa_platform.testing.databases import TestDatabase


class ScriptedCloud(ComputeBackend):
    """A cloud in memory: servers by id, calls recorded, failures scripted per method."""

    capabilities = frozenset({Capability.START_STOP, Capability.REBOOT})

    def __init__(self) -> None:
        self.servers: dict[str, CloudInstance] = {}
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, list[Exception]] = {}
        self.delay = 0.0
        self.active = 0
        self.max_active = 0
        self.active_by_server: dict[str, int] = {}
        self.overlaps = 0
        self.requests: list[InstanceRequest] = []
        self.created_as: tuple[CloudInstanceState, str | None] = (CloudInstanceState.BUILDING, None)
        self._ids = itertools.count(1)

    async def _call(self, method: str, server_id: str) -> None:
        self.calls.append((method, server_id))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        if self.active_by_server.get(server_id):
            self.overlaps += 1
        self.active_by_server[server_id] = self.active_by_server.get(server_id, 0) + 1
        try:
            await asyncio.sleep(self.delay)
            pending = self.failures.get(method)
            if pending:
                raise pending.pop(0)
        finally:
            self.active -= 1
            self.active_by_server[server_id] -= 1

    def put(self, server_id: str, state: CloudInstanceState, address: str | None = None) -> None:
        self.servers[server_id] = CloudInstance(
            id=server_id, name=f"s-{server_id}", state=state, address=address
        )

    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        await self._call("create", request.name)
        self.requests.append(request)
        server_id = f"srv-{next(self._ids)}"
        self.put(server_id, *self.created_as)
        return self.servers[server_id]

    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        self.calls.append(("get", instance_id))
        return self.servers.get(instance_id)

    async def list_instances(self) -> list[CloudInstance]:
        await self._call("list", "*")
        return list(self.servers.values())

    async def _action(self, method: str, server_id: str, state: CloudInstanceState) -> None:
        await self._call(method, server_id)
        if server_id not in self.servers:
            raise CloudNotFoundError(f"server {server_id} not found")
        self.put(server_id, state, self.servers[server_id].address)

    async def start_instance(self, instance_id: str) -> None:
        await self._action("start", instance_id, CloudInstanceState.ACTIVE)

    async def shutdown_instance(self, instance_id: str) -> None:
        await self._action("shutdown", instance_id, CloudInstanceState.STOPPED)

    async def reboot_instance(self, instance_id: str) -> None:
        await self._action("reboot", instance_id, CloudInstanceState.REBOOTING)

    async def delete_instance(self, instance_id: str) -> None:
        await self._call("delete", instance_id)
        if self.servers.pop(instance_id, None) is None:
            raise CloudNotFoundError(f"server {instance_id} not found")


class Recorder:
    """A plugin recording the instance event hooks."""

    def __init__(self) -> None:
        self.changes: list[tuple[int, str, str]] = []
        self.deleted: list[int] = []

    @hookimpl
    def visa_instance_state_changed(self, event: InstanceEvent, previous_state: str) -> None:
        self.changes.append((event.instance_id, previous_state, event.state))

    @hookimpl
    def visa_instance_deleted(self, event: InstanceEvent) -> None:
        self.deleted.append(event.instance_id)

    @hookimpl
    def visa_instance_security_groups(self, query: Any, session: Any) -> list[str]:
        return ["visa-ssh", f"owner-{query.owner_id}"]


class RecordingBroker(LocalBroker):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)
        await super().publish(event)


class EngineRows:
    """What an engine test reads back: the rows of an instance, through ``sessions``."""

    sessions: async_sessionmaker[AsyncSession]

    async def instance(self, instance_id: int) -> Instance:
        async with self.sessions() as session:
            found = await session.get(Instance, instance_id)
            assert found is not None
            return found

    async def commands(self, instance_id: int) -> list[tuple[str, str, str | None]]:
        """``(action, state, message)`` of the instance's commands, oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(InstanceCommand)
                .where(InstanceCommand.instance_id == instance_id)
                .order_by(InstanceCommand.id)
            )
            return [(c.action_type.value, c.state.value, c.message) for c in rows]


@dataclass
class Engine(EngineRows):
    ctx: EngineContext
    cloud: ScriptedCloud
    recorder: Recorder
    broker: RecordingBroker
    clock: ManualClock
    sessions: async_sessionmaker[AsyncSession]
    open_ports: set[tuple[str, int]] = field(default_factory=set)


def app_engine_for(test_database: TestDatabase) -> AsyncEngine:
    """The test database opened as the application opens it (SQLite transactions take the
    write lock when they begin)."""
    return create_engine(
        test_database.url, schema=test_database.schema, pool_size=5, sqlite_immediate=True
    )


def owned_instance(uid: str, name: str, plan_id: int, state: InstanceState) -> Instance:
    """A new instance on ``plan_id`` owned by user 1001 (``ada``), screen 1280x1024."""
    instance = Instance(
        uid=uid,
        name=name,
        plan_id=plan_id,
        username="ada",
        state=state,
        screen_width=1280,
        screen_height=1024,
        keyboard_layout="en-gb-qwerty",
        delete_requested=False,
    )
    instance.members = [InstanceMember(user_id="1001", role=InstanceMemberRole.OWNER)]
    return instance


def pending_command(instance_id: int, action: InstanceCommandType) -> InstanceCommand:
    """A PENDING command of user 1001, as the API queues it."""
    return InstanceCommand(
        instance_id=instance_id,
        user_id="1001",
        action_type=action,
        state=InstanceCommandState.PENDING,
    )


@pytest.fixture
async def engine(
    db_engine: AsyncEngine, test_database: TestDatabase, settings: Settings
) -> AsyncIterator[Engine]:
    app_engine = app_engine_for(test_database)
    sessions = session_factory(app_engine)
    async with sessions() as session:
        await seed_fixtures(session)
        await session.commit()
    cloud = ScriptedCloud()
    registry = Registry("compute backend")
    register = Register(registry, "test")
    register.add("scripted", lambda config: cloud)
    registry.commit(register.pending)
    clouds = CloudClients(registry)
    clouds.add(BackendConfig(cloud_id=None, name="test", type="scripted", server_name_prefix="T"))
    plugins = PluginHost()
    recorder = Recorder()
    plugins.register(recorder, "recorder")
    broker = RecordingBroker()
    clock = ManualClock()
    open_ports: set[tuple[str, int]] = set()

    async def probe(host: str, port: int, seconds: float) -> bool:
        return (host, port) in open_ports

    ctx = EngineContext(
        sessions=sessions,
        clouds=clouds,
        plugins=plugins,
        broker=broker,
        settings=settings,
        clock=clock,
        probe=probe,
    )
    yield Engine(ctx, cloud, recorder, broker, clock, sessions, open_ports)
    await app_engine.dispose()


async def make_instances(
    session: AsyncSession,
    count: int,
    *,
    state: InstanceState = InstanceState.BUILDING,
    compute_ids: bool = False,
    command: InstanceCommandType | None = None,
) -> list[int]:
    """``count`` instances of user 1001 on one plan (image with the GUACD protocol)."""
    guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
    plan = await session.scalar(select(Plan).limit(1))
    if plan is None:
        image = Image(name="Ubuntu", icon="u.png", compute_id="img-1", visible=True, deleted=False)
        image.protocols = [guacd]
        image.boot_command = "#!/bin/sh\necho hi"
        flavour = Flavour(name="Small", cpu=2, memory=4096, compute_id="fl-1", deleted=False)
        plan = Plan(image=image, flavour=flavour, preset=True)
        session.add_all([plan, User(id="1001", first_name="Ada", last_name="Lovelace")])
        await session.flush()
    ids = []
    now = utcnow()
    start = len((await session.scalars(select(Instance.id))).all())
    for n in range(count):
        instance = owned_instance(f"u{start + n:07d}", f"desktop {n}", plan.id, state)
        instance.last_seen_at = now
        instance.compute_id = f"srv-{start + n}" if compute_ids else None
        session.add(instance)
        await session.flush()
        if command is not None:
            session.add(pending_command(instance.id, command))
        ids.append(instance.id)
    await session.commit()
    return ids
