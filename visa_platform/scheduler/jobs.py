"""The scheduled jobs of the lifecycle engine and their periods (spec/domain.md §7)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from visa_platform.db.models import Instance
from visa_platform.domain.enums import InstanceCommandType, InstanceMemberRole, InstanceState
from visa_platform.scheduler.clock import Clock, SystemClock
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.scheduler.core import Job, Scheduler
from visa_platform.scheduler.lease import Lease
from visa_platform.services.instance_actions import EngineContext
from visa_platform.services.instance_states import UNSTABLE_STATES, sync_states
from visa_platform.services.instances import queue

log = logging.getLogger("visa_platform.scheduler")

#: Job name -> period in seconds (VISA's cron expressions, §7).
PERIODS: dict[str, float] = {
    "instance_commands": 2,
    "instance_states": 60,
    "instance_states_unstable": 5,
    "instance_delete": 10,
}

LEASE_TTL = 15.0
TICK = 1.0


async def queue_requested_deletions(ctx: EngineContext) -> int:
    """InstanceDeleteJob: STOPPED instances whose deletion was asked go DELETING + DELETE."""
    async with ctx.sessions() as session:
        instances = (
            await session.scalars(
                select(Instance)
                .where(
                    Instance.deleted_at.is_(None),
                    Instance.delete_requested.is_(True),
                    Instance.state == InstanceState.STOPPED,
                )
                .options(selectinload(Instance.members))
            )
        ).all()
        for instance in instances:
            owner = next(
                (m.user_id for m in instance.members if m.role is InstanceMemberRole.OWNER), None
            )
            instance.state = InstanceState.DELETING
            session.add(queue(instance, owner, InstanceCommandType.DELETE))
        await session.commit()
    return len(instances)


def build_scheduler(
    ctx: EngineContext,
    *,
    clock: Clock | None = None,
    holder: str | None = None,
    executor: CommandExecutor | None = None,
) -> tuple[Scheduler, CommandExecutor]:
    """The scheduler with every job of this engine, and its command executor."""
    clock = clock or ctx.clock or SystemClock()
    executor = executor or CommandExecutor(ctx)

    async def deletions() -> None:
        if await queue_requested_deletions(ctx):
            await executor.run_pending()  # "executed now"

    async def commands() -> None:
        await executor.run_pending()

    async def states() -> None:
        await sync_states(ctx)

    async def unstable() -> None:
        await sync_states(ctx, states=UNSTABLE_STATES)

    jobs = [
        Job("instance_commands", PERIODS["instance_commands"], commands),
        Job("instance_states", PERIODS["instance_states"], states),
        Job("instance_states_unstable", PERIODS["instance_states_unstable"], unstable),
        Job("instance_delete", PERIODS["instance_delete"], deletions),
    ]

    async def on_acquired() -> None:
        await executor.recover()

    async def on_lost() -> None:
        # another replica may take the lease over and resume these commands: stop first
        await executor.stop()

    lease = Lease(ctx.sessions, holder=holder, ttl=LEASE_TTL, clock=clock)
    scheduler = Scheduler(
        lease, jobs, clock=clock, tick=TICK, on_acquired=on_acquired, on_lost=on_lost
    )
    return scheduler, executor


class EngineScheduler:
    """The scheduler and command executor of a running application (``Runtime.scheduler``)."""

    def __init__(self, scheduler: Scheduler, executor: CommandExecutor) -> None:
        self.scheduler = scheduler
        self.executor = executor

    async def stop(self) -> None:
        """Stop the jobs and the commands, then let another replica take over at once."""
        await self.scheduler.stop(release=False)
        await self.executor.stop()
        await self.scheduler.lease.release()


def engine_context(state: Any, clock: Clock | None = None) -> EngineContext:
    """The engine context of a serving application's :class:`~visa_platform.runtime.Runtime`."""
    if state.sessions is None or state.clouds is None:
        raise RuntimeError("the application is not serving")
    return EngineContext(
        sessions=state.sessions,
        clouds=state.clouds,
        plugins=state.plugins,
        broker=state.broker,
        settings=state.settings,
        clock=clock or SystemClock(),
        notifications=state.notifications,
    )


def start_scheduler(state: Any) -> EngineScheduler:
    """Build the jobs for a serving application and start ticking in the background."""
    scheduler, executor = build_scheduler(engine_context(state))
    scheduler.start()
    log.info("event=scheduler_started holder=%s", scheduler.lease.holder)
    return EngineScheduler(scheduler, executor)


__all__ = [
    "LEASE_TTL",
    "PERIODS",
    "EngineScheduler",
    "build_scheduler",
    "engine_context",
    "queue_requested_deletions",
    "start_scheduler",
]
