"""The command executor: per-instance order, bounded concurrency, dedup, retries, recovery."""

from __future__ import annotations

from engine_fixtures import Engine, make_instances
from engine_fixtures import pending_command as pending
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.compute import CloudRejectedError, CloudUnavailableError
from visa_platform.db.models import Instance, InstanceCommand, Protocol
from visa_platform.domain.enums import (
    CloudInstanceState,
    InstanceCommandState,
    InstanceCommandType,
    InstanceState,
)
from visa_platform.scheduler.commands import CommandExecutor


async def run(executor: CommandExecutor) -> None:
    await executor.run_pending()
    await executor.wait_idle()


async def test_create_builds_the_server_request_and_stores_the_result(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(db_session, 1, command=InstanceCommandType.CREATE)
    await run(CommandExecutor(engine.ctx))
    instance = await engine.instance(instance_id)
    assert instance.compute_id == "srv-1" and instance.state is InstanceState.BUILDING
    assert instance.security_groups == "visa-ssh,owner-1001"
    [request] = engine.cloud.requests
    assert request.name == f"T-{instance_id}"
    assert (request.image_id, request.flavour_id) == ("img-1", "fl-1")
    assert request.boot_command == "#!/bin/sh\necho hi"
    assert request.security_groups == ("visa-ssh", "owner-1001")
    assert request.metadata["id"] == str(instance_id)
    assert request.metadata["owner"] == "ada" and request.metadata["screenWidth"] == "1280"
    assert await engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]


async def test_a_server_active_at_once_is_port_checked_at_once(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(db_session, 1, command=InstanceCommandType.CREATE)
    guacd, rdp = [
        (await db_session.scalar(select(Protocol.port).where(Protocol.name == name)))
        for name in ("GUACD", "RDP")
    ]
    engine.cloud.created_as = (CloudInstanceState.ACTIVE, "10.0.0.9")
    engine.open_ports.update({("10.0.0.9", guacd), ("10.0.0.9", rdp)})
    await run(CommandExecutor(engine.ctx))
    instance = await engine.instance(instance_id)
    assert (instance.state, instance.ip_address) == (InstanceState.ACTIVE, "10.0.0.9")
    assert instance.active_protocols == "GUACD"
    assert (instance_id, "BUILDING", "ACTIVE") in engine.recorder.changes


async def test_one_instance_in_order_many_instances_concurrently_within_the_bound(
    engine: Engine, db_session: AsyncSession
) -> None:
    ids = await make_instances(db_session, 6, compute_ids=True, state=InstanceState.STOPPED)
    for instance_id in ids:
        async with engine.sessions() as session:
            compute_id = (await session.get(Instance, instance_id)).compute_id  # type: ignore[union-attr]
        engine.cloud.put(compute_id or "", CloudInstanceState.STOPPED)
        for action in (
            InstanceCommandType.START,
            InstanceCommandType.REBOOT,
            InstanceCommandType.SHUTDOWN,
        ):
            db_session.add(pending(instance_id, action))
    await db_session.commit()
    engine.cloud.delay = 0.4
    await run(CommandExecutor(engine.ctx, concurrency=4))
    assert engine.cloud.overlaps == 0  # never two actions of one instance at once
    # different instances in parallel, never more than the bound (each action writes its
    # state first: on a loaded SQLite host those writes may keep the 4th from overlapping)
    assert 3 <= engine.cloud.max_active <= 4
    first = await engine.commands(ids[0])
    assert [c[:2] for c in first] == [
        ("START", "TERMINATED"),
        ("REBOOT", "TERMINATED"),
        ("SHUTDOWN", "TERMINATED"),
    ]
    server = [c for c in engine.cloud.calls if c[1] == "srv-0"]
    assert [m for m, _ in server] == ["start", "reboot", "shutdown"]


async def test_same_type_already_queued_is_terminated_at_once(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(
        db_session, 1, compute_ids=True, state=InstanceState.STOPPED
    )
    engine.cloud.put("srv-0", CloudInstanceState.STOPPED)
    db_session.add_all(
        [
            pending(instance_id, InstanceCommandType.START),
            pending(instance_id, InstanceCommandType.START),
            pending(instance_id, InstanceCommandType.REBOOT),
        ]
    )
    await db_session.commit()
    await run(CommandExecutor(engine.ctx))
    assert [c[:2] for c in await engine.commands(instance_id)] == [
        ("START", "TERMINATED"),
        ("START", "TERMINATED"),
        ("REBOOT", "TERMINATED"),
    ]
    assert [m for m, _ in engine.cloud.calls] == ["start", "reboot"]


async def test_retryable_errors_are_retried_with_back_off(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(db_session, 1, command=InstanceCommandType.CREATE)
    engine.cloud.failures["create"] = [CloudUnavailableError("503"), CloudUnavailableError("503")]
    before = engine.clock.now()
    await run(CommandExecutor(engine.ctx, retries=3, backoff=1))
    assert (engine.clock.now() - before).total_seconds() == 3  # slept 1 s, then 2 s
    assert await engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
    assert (await engine.instance(instance_id)).compute_id == "srv-1"


async def test_retries_are_bounded_then_failed_with_the_reason(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(db_session, 1, command=InstanceCommandType.CREATE)
    engine.cloud.failures["create"] = [CloudUnavailableError("503")] * 5
    await run(CommandExecutor(engine.ctx, retries=2, backoff=1))
    assert len([c for c in engine.cloud.calls if c[0] == "create"]) == 3
    [(_, state, message)] = await engine.commands(instance_id)
    assert state == "FAILED"
    assert message == "Action failed: " + CloudUnavailableError("x").user_message
    assert (await engine.instance(instance_id)).state is InstanceState.ERROR
    types = [e.type for e in engine.broker.events]
    assert "admin:instance_errors_changed" in types and "user:instance_state_changed" in types
    assert (instance_id, "BUILDING", "ERROR") in engine.recorder.changes


async def test_refused_create_fails_at_once(engine: Engine, db_session: AsyncSession) -> None:
    [instance_id] = await make_instances(db_session, 1, command=InstanceCommandType.CREATE)
    engine.cloud.failures["create"] = [
        CloudRejectedError("403 quota", user_message="Quota exceeded for instances.")
    ]
    await run(CommandExecutor(engine.ctx))
    assert await engine.commands(instance_id) == [
        ("CREATE", "FAILED", "Action failed: Quota exceeded for instances.")
    ]
    assert len(engine.cloud.calls) == 1


async def test_cancelled_is_never_overwritten(engine: Engine, db_session: AsyncSession) -> None:
    [instance_id] = await make_instances(db_session, 1, command=InstanceCommandType.CREATE)
    executor = CommandExecutor(engine.ctx)
    original = engine.cloud.create_instance

    async def cancel_meanwhile(request: object) -> object:
        async with engine.sessions() as session:
            await session.execute(
                update(InstanceCommand).values(state=InstanceCommandState.CANCELLED)
            )
            await session.commit()
        return await original(request)  # type: ignore[arg-type]

    engine.cloud.create_instance = cancel_meanwhile  # type: ignore[method-assign,assignment]
    await run(executor)
    assert await engine.commands(instance_id) == [("CREATE", "CANCELLED", None)]


async def test_delete_soft_deletes_and_announces(engine: Engine, db_session: AsyncSession) -> None:
    [instance_id] = await make_instances(
        db_session,
        1,
        compute_ids=True,
        state=InstanceState.DELETING,
        command=InstanceCommandType.DELETE,
    )
    engine.cloud.put("srv-0", CloudInstanceState.STOPPED)
    await run(CommandExecutor(engine.ctx))
    instance = await engine.instance(instance_id)
    assert instance.state is InstanceState.DELETED and instance.deleted_at is not None
    assert "srv-0" not in engine.cloud.servers
    assert engine.recorder.deleted == [instance_id]
    assert [e.type for e in engine.broker.events] == ["user:instances_changed"]


async def test_restart_resumes_unfinished_commands(
    engine: Engine, db_session: AsyncSession
) -> None:
    ids = await make_instances(db_session, 3, command=InstanceCommandType.CREATE)
    # a process died: one command was RUNNING, one QUEUED, one still PENDING
    async with engine.sessions() as session:
        rows = (await session.scalars(select(InstanceCommand).order_by(InstanceCommand.id))).all()
        rows[0].state = InstanceCommandState.RUNNING
        rows[1].state = InstanceCommandState.QUEUED
        await session.commit()
    executor = CommandExecutor(engine.ctx)
    assert await executor.recover() == 2
    await run(executor)
    for instance_id in ids:
        assert await engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
        assert (await engine.instance(instance_id)).compute_id is not None
    assert len(engine.cloud.requests) == 3


async def test_recovery_leaves_this_process_own_work_alone(
    engine: Engine, db_session: AsyncSession
) -> None:
    [instance_id] = await make_instances(db_session, 1, command=InstanceCommandType.CREATE)
    engine.cloud.delay = 0.05
    executor = CommandExecutor(engine.ctx)
    await executor.run_pending()
    assert await executor.recover() == 0  # queued/running here: not reset
    await executor.wait_idle()
    assert await engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
