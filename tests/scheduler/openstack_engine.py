"""An engine context on the fake OpenStack (real openstacksdk over HTTP) for job and fault tests.

``os_engine`` builds the default cloud as type ``openstack`` against the ``fake_openstack``
fixture (server name prefix ``VISA``, 1 s timeouts), a plan whose image and flavour exist in the
fake, user 1001 and a security-group policy plugin whose answer the test sets
(``os_engine.policy.groups``). Time is a :class:`ManualClock`: command back-offs cost nothing.
Row readers and builders are the lifecycle-engine kit's (engine_fixtures.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from engine_fixtures import EngineRows, app_engine_for, owned_instance, pending_command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import visa_openstack.plugin
from visa_platform.compute import BackendConfig, CloudClients
from visa_platform.config import Settings
from visa_platform.db.engine import session_factory
from visa_platform.db.models import Flavour, Image, Plan, Protocol, User
from visa_platform.db.seed import seed_fixtures
from visa_platform.domain.enums import InstanceCommandType, InstanceState
from visa_platform.events.broker import LocalBroker
from visa_platform.plugin import PluginHost, hookimpl
from visa_platform.scheduler import ManualClock
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.services.instance_actions import EngineContext
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.fake_openstack import FakeOpenStack

PREFIX = "VISA"


class GroupPolicy:
    """Answers ``visa_instance_security_groups`` with ``groups`` (per owner when set)."""

    def __init__(self) -> None:
        self.groups: list[str] = ["default", "visa-ssh"]
        self.calls = 0

    @hookimpl
    def visa_instance_security_groups(self, query: Any, session: Any) -> list[str]:
        self.calls += 1
        return list(self.groups)


@dataclass
class OpenStackEngine(EngineRows):
    ctx: EngineContext
    cloud: FakeOpenStack
    sessions: async_sessionmaker[AsyncSession]
    clock: ManualClock
    policy: GroupPolicy
    plan_id: int
    executor: CommandExecutor = field(init=False)
    made: int = 0

    def __post_init__(self) -> None:
        self.executor = CommandExecutor(self.ctx, backoff=1.0)

    async def add_instances(
        self,
        count: int,
        *,
        state: InstanceState = InstanceState.BUILDING,
        command: InstanceCommandType | None = InstanceCommandType.CREATE,
        server_status: str | None = None,
    ) -> list[int]:
        """``count`` instances of user 1001 (with a PENDING ``command`` each); with
        ``server_status`` each on a server of the fake in that Nova status."""
        ids = []
        async with self.sessions() as session:
            for n in range(count):
                self.made += 1
                instance = owned_instance(f"os{self.made:06d}", f"desktop {n}", self.plan_id, state)
                if server_status is not None:
                    [instance.compute_id] = self.cloud.add_servers(1, status=server_status)
                session.add(instance)
                await session.flush()
                if command is not None:
                    session.add(pending_command(instance.id, command))
                ids.append(instance.id)
                if instance.compute_id is not None:
                    self.cloud.servers[instance.compute_id]["name"] = f"{PREFIX}-{instance.id}"
            await session.commit()
        return ids

    async def add_command(self, instance_id: int, action: InstanceCommandType) -> None:
        async with self.sessions() as session:
            session.add(pending_command(instance_id, action))
            await session.commit()

    async def execute(self) -> None:
        """One executor run, waited for."""
        await self.executor.run_pending()
        await self.executor.wait_idle()

    async def created(self, count: int) -> list[int]:
        """``count`` instances created in the cloud through CREATE commands."""
        ids = await self.add_instances(count)
        await self.execute()
        for instance_id in ids:
            assert (await self.instance(instance_id)).compute_id is not None
        return ids

    async def compute_id(self, instance_id: int) -> str:
        compute_id = (await self.instance(instance_id)).compute_id
        assert compute_id is not None
        return compute_id

    def server_groups(self, compute_id: str) -> list[str]:
        return [g["name"] for g in self.cloud.servers[compute_id]["security_groups"]]


def openstack_clouds(parameters: dict[str, str], host: PluginHost) -> CloudClients:
    clouds = CloudClients(host.compute_backends)
    client = clouds.add(
        BackendConfig(
            cloud_id=None,
            name="Default",
            type="openstack",
            parameters=parameters,
            server_name_prefix=PREFIX,
            connect_timeout=1,
            read_timeout=1,
        )
    )
    assert client is not None, clouds.errors
    return clouds


@pytest.fixture
async def os_engine(
    db_engine: AsyncEngine,
    test_database: TestDatabase,
    settings: Settings,
    fake_openstack: FakeOpenStack,
) -> AsyncIterator[OpenStackEngine]:
    app_engine = app_engine_for(test_database)
    sessions = session_factory(app_engine)
    async with sessions() as session:
        await seed_fixtures(session)
        guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
        image = Image(
            name="Desktop",
            icon="d.png",
            compute_id=fake_openstack.images[0]["id"],
            visible=True,
            deleted=False,
        )
        image.protocols = [guacd]  # type: ignore[list-item]
        flavour = Flavour(name="Small", cpu=1, memory=2048, compute_id="1", deleted=False)
        plan = Plan(image=image, flavour=flavour, preset=True)
        session.add_all([plan, User(id="1001", first_name="Ada", last_name="Lovelace")])
        await session.commit()
        plan_id = plan.id
    host = PluginHost()
    host.register(visa_openstack.plugin, "openstack")
    policy = GroupPolicy()
    host.register(policy, "policy")
    clouds = openstack_clouds(fake_openstack.parameters(), host)

    async def closed(host: str, port: int, seconds: float) -> bool:
        return False

    clock = ManualClock()
    ctx = EngineContext(
        sessions=sessions,
        clouds=clouds,
        plugins=host,
        broker=LocalBroker(),
        settings=settings,
        clock=clock,
        probe=closed,
    )
    engine = OpenStackEngine(ctx, fake_openstack, sessions, clock, policy, plan_id)
    try:
        yield engine
    finally:
        await engine.executor.stop()
        await clouds.close()
        await app_engine.dispose()


__all__ = ["PREFIX", "GroupPolicy", "OpenStackEngine", "openstack_clouds", "os_engine"]
