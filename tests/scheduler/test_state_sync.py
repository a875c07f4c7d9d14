"""State sync: cloud state -> instance state, port checks, vanished servers, events, costs."""

from __future__ import annotations

from typing import Any

import pytest
from engine_fixtures import Engine, make_instances
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import Image, Instance, InstanceCommand, Protocol
from visa_platform.domain.enums import (
    CloudInstanceState,
    InstanceCommandState,
    InstanceCommandType,
    InstanceState,
)
from visa_platform.services.instance_states import UNSTABLE_STATES, sync_states

IP = "10.0.0.7"


async def ports(session: AsyncSession) -> dict[str, int]:
    return {p.name: p.port for p in await session.scalars(select(Protocol))}


async def test_building_to_starting_to_active_with_active_at_and_events(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(db_session, 1, compute_ids=True)
    known = await ports(db_session)
    engine.cloud.put("srv-0", CloudInstanceState.BUILDING)
    await sync_states(engine.ctx)
    assert (await engine.instance(instance_id)).state is InstanceState.BUILDING
    assert engine.broker.events == []  # nothing changed, nothing announced

    engine.cloud.put("srv-0", CloudInstanceState.ACTIVE, IP)
    await sync_states(engine.ctx)
    instance = await engine.instance(instance_id)
    assert (instance.state, instance.ip_address) == (InstanceState.STARTING, IP)
    assert instance.active_at is None

    # GUACD needs its own port and RDP's (no secondary protocol on the image)
    engine.open_ports.update({(IP, known["GUACD"]), (IP, known["RDP"])})
    engine.clock.advance(5)
    await sync_states(engine.ctx, states=UNSTABLE_STATES)
    instance = await engine.instance(instance_id)
    assert instance.state is InstanceState.ACTIVE
    assert instance.active_protocols == "GUACD"
    assert instance.active_at == engine.clock.now()
    assert engine.recorder.changes == [
        (instance_id, "BUILDING", "STARTING"),
        (instance_id, "STARTING", "ACTIVE"),
    ]
    events = [e for e in engine.broker.events if e.type == "user:instance_state_changed"]
    assert [e.data["state"] for e in events] == ["STARTING", "ACTIVE"]
    assert events[-1].audience.user_ids == frozenset({"1001"})
    assert events[-1].data["ipAddress"] == IP


async def test_partially_active_when_a_non_vdi_protocol_is_closed(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(db_session, 1, compute_ids=True)
    jupyter = await db_session.scalar(select(Protocol).where(Protocol.name == "JUPYTER"))
    assert jupyter is not None
    loaded = (await db_session.scalars(select(Image))).one()
    await db_session.refresh(loaded, ["protocols"])
    loaded.protocols.append(jupyter)
    await db_session.commit()
    known = await ports(db_session)
    engine.cloud.put("srv-0", CloudInstanceState.ACTIVE, IP)
    engine.open_ports.update({(IP, known["GUACD"]), (IP, known["RDP"])})
    await sync_states(engine.ctx)
    instance = await engine.instance(instance_id)
    assert (instance.state, instance.active_protocols) == (
        InstanceState.PARTIALLY_ACTIVE,
        "GUACD",
    )


@pytest.mark.parametrize(
    ("cloud", "expected"),
    [
        (CloudInstanceState.STOPPED, InstanceState.STOPPED),
        (CloudInstanceState.STOPPING, InstanceState.STOPPING),
        (CloudInstanceState.ERROR, InstanceState.ERROR),
        (CloudInstanceState.REBOOTING, InstanceState.REBOOTING),
        (CloudInstanceState.UNAVAILABLE, InstanceState.UNAVAILABLE),
    ],
)
async def test_other_states_map_one_to_one(
    engine: Engine,
    db_session: AsyncSession,
    cloud: CloudInstanceState,
    expected: InstanceState,
) -> None:
    [instance_id] = await make_instances(
        db_session, 1, compute_ids=True, state=InstanceState.ACTIVE
    )
    engine.cloud.put("srv-0", cloud)
    await sync_states(engine.ctx)
    assert (await engine.instance(instance_id)).state is expected
    errors = [e for e in engine.broker.events if e.type == "admin:instance_errors_changed"]
    assert len(errors) == (1 if expected is InstanceState.ERROR else 0)


async def test_stale_states_after_delete_or_reboot_are_ignored(
    engine: Engine, db_session: AsyncSession
) -> None:
    [deleting] = await make_instances(
        db_session,
        1,
        compute_ids=True,
        state=InstanceState.DELETING,
        command=InstanceCommandType.DELETE,
    )
    [rebooting] = await make_instances(
        db_session,
        1,
        compute_ids=True,
        state=InstanceState.REBOOTING,
        command=InstanceCommandType.REBOOT,
    )
    await db_session.execute(  # the commands ran: only the rule of §2.3 holds the state
        update(InstanceCommand).values(state=InstanceCommandState.TERMINATED)
    )
    await db_session.commit()
    engine.cloud.put("srv-0", CloudInstanceState.ACTIVE, IP)
    engine.cloud.put("srv-1", CloudInstanceState.STOPPED)
    await sync_states(engine.ctx)
    assert (await engine.instance(deleting)).state is InstanceState.DELETING
    assert (await engine.instance(rebooting)).state is InstanceState.REBOOTING


@pytest.mark.parametrize(
    "outstanding",
    [InstanceCommandState.PENDING, InstanceCommandState.QUEUED, InstanceCommandState.RUNNING],
)
async def test_the_cloud_state_waits_for_an_outstanding_command(
    engine: Engine, db_session: AsyncSession, outstanding: InstanceCommandState
) -> None:
    """A stop asked a moment ago: the cloud still says ACTIVE until the command has run.

    Before, the sync of unstable states put the instance back to ACTIVE (a stable state), and
    the stop was noticed only by the 60 s sync: a deletion of a running desktop took a minute.
    """
    [instance_id] = await make_instances(
        db_session,
        1,
        compute_ids=True,
        state=InstanceState.STOPPING,
        command=InstanceCommandType.SHUTDOWN,
    )
    await db_session.execute(update(InstanceCommand).values(state=outstanding))
    await db_session.commit()
    engine.cloud.put("srv-0", CloudInstanceState.ACTIVE, IP)
    await sync_states(engine.ctx, states=UNSTABLE_STATES)
    assert (await engine.instance(instance_id)).state is InstanceState.STOPPING
    assert engine.recorder.changes == []

    await db_session.execute(  # the command ran; the cloud now tells the truth
        update(InstanceCommand).values(state=InstanceCommandState.TERMINATED)
    )
    await db_session.commit()
    engine.cloud.put("srv-0", CloudInstanceState.STOPPED)
    await sync_states(engine.ctx, states=UNSTABLE_STATES)
    assert (await engine.instance(instance_id)).state is InstanceState.STOPPED


async def test_vanished_server_is_confirmed_then_soft_deleted(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(
        db_session, 1, compute_ids=True, state=InstanceState.ACTIVE
    )
    await sync_states(engine.ctx)  # the cloud has no server at all
    instance = await engine.instance(instance_id)
    assert instance.state is InstanceState.DELETED and instance.deleted_at is not None
    assert instance.ip_address is None
    assert ("get", "srv-0") in engine.cloud.calls  # confirmed before deleting
    assert engine.recorder.deleted == [instance_id]
    assert [e.type for e in engine.broker.events] == ["user:instances_changed"]


async def test_a_user_action_during_the_pass_wins(engine: Engine, db_session: AsyncSession) -> None:
    [instance_id] = await make_instances(
        db_session, 1, compute_ids=True, state=InstanceState.ACTIVE
    )
    original = engine.cloud.list_instances

    async def meanwhile() -> Any:
        async with engine.sessions() as session:
            instance = await session.get(Instance, instance_id)
            assert instance is not None
            instance.state = InstanceState.STOPPING
            await session.commit()
        return await original()

    engine.cloud.list_instances = meanwhile  # type: ignore[method-assign]
    engine.cloud.put("srv-0", CloudInstanceState.UNAVAILABLE)
    await sync_states(engine.ctx)
    assert (await engine.instance(instance_id)).state is InstanceState.STOPPING


async def test_statements_and_cloud_calls_are_bounded_per_page(
    engine: Engine, db_session: AsyncSession
) -> None:
    """The cost of a pass grows with the number of pages, not with the number of instances."""
    from visa_platform.services import instance_states

    known = await ports(db_session)

    async def cost(count: int) -> tuple[int, int]:
        ids = await make_instances(db_session, count, compute_ids=True)
        start = ids[0] - 1
        for n in range(count):
            engine.cloud.put(f"srv-{start + n}", CloudInstanceState.ACTIVE, IP)
        engine.open_ports.update({(IP, known["GUACD"]), (IP, known["RDP"])})
        statements = 0

        def count_statement(*args: Any) -> None:
            nonlocal statements
            statements += 1

        sync_engine = engine.ctx.sessions.kw["bind"].sync_engine
        event.listen(sync_engine, "before_cursor_execute", count_statement)
        engine.cloud.calls.clear()
        try:
            report = await instance_states.sync_states(engine.ctx, page_size=100)
        finally:
            event.remove(sync_engine, "before_cursor_execute", count_statement)
        assert report.changed == count
        return statements, len(engine.cloud.calls)

    small = await cost(5)
    large = await cost(60)  # 65 instances, still one page (the first 5 unchanged now)
    assert small[1] == large[1] == 1  # one listing per cloud
    assert large[0] == small[0]
