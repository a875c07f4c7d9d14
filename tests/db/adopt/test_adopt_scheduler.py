"""The scheduler picks up the instances of an adopted database as the Java server left them.

The Java server ran until the switch: instance 1 is in use, instance 2 is stopped with an
expiration that passed in February and a START still PENDING, instance 3 is a booked instance
without a server yet, instance 4 is in ERROR, instance 7 was deleted long ago. One round of
every job on our scheduler (real jobs, simulated time) must do exactly what the Java server
would have done next: run the pending command, delete instance 2 for its expiry, and leave
everything else, members, sessions and expirations included, as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from java_visa_schema import SOURCE_TIMEZONE
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.compute import (
    BackendConfig,
    Capability,
    CloudClients,
    CloudInstance,
    CloudNotFoundError,
    ComputeBackend,
    InstanceRequest,
)
from visa_platform.config import load_settings
from visa_platform.db import adopt
from visa_platform.db.engine import session_factory
from visa_platform.db.models import (
    Instance,
    InstanceCommand,
    InstanceExpiration,
    InstanceMember,
    InstanceSession,
)
from visa_platform.domain.enums import CloudInstanceState, InstanceCommandState, InstanceState
from visa_platform.events.broker import LocalBroker
from visa_platform.plugin import PluginHost
from visa_platform.plugin.registry import Register, Registry
from visa_platform.scheduler import ManualClock
from visa_platform.scheduler.jobs import build_scheduler
from visa_platform.services.instance_actions import EngineContext

BuildJava = Callable[[str], Awaitable[AsyncEngine]]
#: The morning after the Java server's last writes (its rows end on 2026-07-02 07:59 Paris).
SWITCH = datetime(2026, 7, 2, 8, 0, tzinfo=UTC)


class JavaEraCloud(ComputeBackend):
    """The servers the Java server's instances run on, and what is done to them."""

    capabilities = frozenset({Capability.START_STOP, Capability.REBOOT})

    def __init__(self) -> None:
        self.servers = {
            "srv-1": CloudInstance(
                id="srv-1", name="VISA-INSTANCE-1", state=CloudInstanceState.ACTIVE,
                address="10.0.0.11",
            ),
            "srv-2": CloudInstance(
                id="srv-2", name="VISA-INSTANCE-2", state=CloudInstanceState.STOPPED,
                address="10.0.0.12",
            ),
            "srv-4": CloudInstance(
                id="srv-4", name="VISA-INSTANCE-4", state=CloudInstanceState.ERROR
            ),
        }  # fmt: skip
        self.calls: list[tuple[str, str]] = []

    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        raise AssertionError("nothing may be created")

    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        return self.servers.get(instance_id)

    async def list_instances(self) -> list[CloudInstance]:
        return list(self.servers.values())

    def _set(self, instance_id: str, state: CloudInstanceState) -> None:
        if instance_id not in self.servers:
            raise CloudNotFoundError(f"server {instance_id} not found")
        server = self.servers[instance_id]
        self.servers[instance_id] = CloudInstance(
            id=server.id, name=server.name, state=state, address=server.address
        )

    async def start_instance(self, instance_id: str) -> None:
        self.calls.append(("start", instance_id))
        self._set(instance_id, CloudInstanceState.ACTIVE)

    async def shutdown_instance(self, instance_id: str) -> None:
        self.calls.append(("shutdown", instance_id))
        self._set(instance_id, CloudInstanceState.STOPPED)

    async def delete_instance(self, instance_id: str) -> None:
        self.calls.append(("delete", instance_id))
        if self.servers.pop(instance_id, None) is None:
            raise CloudNotFoundError(f"server {instance_id} not found")


async def snapshot(sessions: Any) -> dict[str, Any]:
    async with sessions() as session:
        instances = {
            i.id: (i.state, i.deleted_at is not None, i.termination_date)
            for i in await session.scalars(select(Instance))
        }
        return {
            "instances": instances,
            "members": await session.scalar(select(func.count()).select_from(InstanceMember)),
            "sessions": await session.scalar(select(func.count()).select_from(InstanceSession)),
            "expirations": sorted(
                (e.instance_id, e.expiration_date)
                for e in await session.scalars(select(InstanceExpiration))
            ),
            "commands": [
                (c.id, c.instance_id, c.action_type.value, c.state)
                for c in await session.scalars(select(InstanceCommand).order_by(InstanceCommand.id))
            ],
        }


async def test_the_scheduler_carries_on_where_the_java_server_stopped(
    java_database: BuildJava, tmp_path: Any
) -> None:
    engine = await java_database("3.8")
    await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE)
    sessions = session_factory(engine)
    before = await snapshot(sessions)
    assert before["instances"][2][0] is InstanceState.STOPPED
    assert (3, 2, "START", InstanceCommandState.PENDING) in before["commands"]

    cloud = JavaEraCloud()
    registry = Registry("compute backend")
    register = Register(registry, "test")
    register.add("java-era", lambda config: cloud)
    registry.commit(register.pending)
    clouds = CloudClients(registry)
    clouds.add(BackendConfig(cloud_id=None, name="default", type="java-era"))

    async def every_port_open(host: str, port: int, seconds: float) -> bool:
        return host == "10.0.0.11"

    clock = ManualClock(SWITCH)
    ctx = EngineContext(
        sessions=sessions,
        clouds=clouds,
        plugins=PluginHost(),
        broker=LocalBroker(),
        settings=load_settings(environ={}, data_dir=tmp_path),
        clock=clock,
        probe=every_port_open,
    )
    scheduler, executor = build_scheduler(ctx, clock=clock)
    try:
        for _ in range(3):  # three rounds, 10 minutes apart: every frequent job runs
            await scheduler.tick()
            await scheduler.drain()
            await executor.wait_idle()
            clock.advance(600)
        await scheduler.drain()
        await executor.wait_idle()
    finally:
        await executor.stop()
        await scheduler.stop()
    assert scheduler.runs["instance_lifecycle"] >= 1 and scheduler.runs["instance_states"] >= 1

    after = await snapshot(sessions)
    # instance 2: the pending START ran, then its expiry deleted it (the Java server's next steps)
    assert cloud.calls == [("start", "srv-2"), ("delete", "srv-2")]
    assert after["instances"][2][:2] == (InstanceState.DELETED, True)
    commands = {(c[1], c[2]): c[3] for c in after["commands"]}
    assert commands[(2, "START")] is InstanceCommandState.TERMINATED
    assert commands[(2, "DELETE")] is InstanceCommandState.TERMINATED
    assert not [c for c in after["commands"] if c[3] is not InstanceCommandState.TERMINATED
                and c[3] is not InstanceCommandState.FAILED]  # fmt: skip
    # nothing else was deleted or changed in a way the Java server would not have
    state_1, deleted_1, termination_1 = after["instances"][1]
    assert state_1 in (InstanceState.ACTIVE, InstanceState.PARTIALLY_ACTIVE) and not deleted_1
    assert termination_1 == before["instances"][1][2]
    assert after["instances"][3] == before["instances"][3]  # booked, no server yet
    assert after["instances"][4] == before["instances"][4]  # ERROR stays ERROR
    assert after["instances"][7] == before["instances"][7]
    assert sorted(i for i, (_, deleted, _) in after["instances"].items() if deleted) == [2, 7]
    assert after["members"] == before["members"] and after["sessions"] == before["sessions"]
    assert after["expirations"] == [e for e in before["expirations"] if e[0] != 2]
