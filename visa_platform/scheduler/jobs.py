"""The scheduled jobs of the lifecycle engine and their periods (spec/domain.md §7)."""

from __future__ import annotations

import logging
from datetime import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from visa_platform.db.models import Instance
from visa_platform.domain.enums import InstanceCommandType, InstanceMemberRole, InstanceState
from visa_platform.scheduler.clock import Clock, SystemClock
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.scheduler.core import DailyAt, Every, Job, Schedule, Scheduler
from visa_platform.scheduler.lease import Lease
from visa_platform.services.cleanup import (
    delete_expired_tickets,
    delete_old_activity,
    delete_orphan_servers,
)
from visa_platform.services.cloud_resources import update_cloud_resources
from visa_platform.services.instance_actions import EngineContext
from visa_platform.services.instance_states import UNSTABLE_STATES, sync_states
from visa_platform.services.instances import queue
from visa_platform.services.lifecycle import run_lifecycle
from visa_platform.services.security_group_sync import reconcile_security_groups

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from visa_platform.etl.schedule import ScheduledEtl

log = logging.getLogger("visa_platform.scheduler")

#: Job name -> period in seconds or schedule (VISA's cron expressions, §7); times of day are
#: the server's local time, as VISA's Quartz cron.
PERIODS: dict[str, float | Schedule] = {
    "instance_commands": 2,
    "instance_states": 60,
    "instance_states_unstable": 5,
    "instance_delete": 10,
    "instance_authentication_tokens": 15,
    "cloud_resources": Every(60, offset=15),
    "instance_activity_cleanup": DailyAt(time(1, 0)),
    "cloud_instance_cleanup": DailyAt(time(2, 0)),
    "instance_security_groups": DailyAt(time(6, 0)),
    "instance_lifecycle": 300,
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
    etl: tuple[AsyncEngine, ScheduledEtl] | None = None,
) -> tuple[Scheduler, CommandExecutor]:
    """The scheduler with every job of this engine, and its command executor.

    ``etl`` (the database engine and the ``[schedule]`` of the ETL configuration) adds the
    scheduled ETL run as job ``etl``.
    """
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

    async def tickets() -> None:
        await delete_expired_tickets(ctx)

    async def resources() -> None:
        await update_cloud_resources(ctx)

    async def activity() -> None:
        await delete_old_activity(ctx)

    async def orphans() -> None:
        await delete_orphan_servers(ctx)

    async def security_groups() -> None:
        await reconcile_security_groups(
            ctx, lambda i: executor.submit(i, InstanceCommandType.UPDATE_SECURITY_GROUPS)
        )

    async def lifecycle() -> None:
        if (await run_lifecycle(ctx)).deleting:
            await executor.run_pending()  # the expired instances' DELETE commands, now

    jobs = [
        Job("instance_commands", PERIODS["instance_commands"], commands),
        Job("instance_states", PERIODS["instance_states"], states),
        Job("instance_states_unstable", PERIODS["instance_states_unstable"], unstable),
        Job("instance_delete", PERIODS["instance_delete"], deletions),
        Job("instance_authentication_tokens", PERIODS["instance_authentication_tokens"], tickets),
        Job("cloud_resources", PERIODS["cloud_resources"], resources),
        Job("instance_activity_cleanup", PERIODS["instance_activity_cleanup"], activity),
        Job("cloud_instance_cleanup", PERIODS["cloud_instance_cleanup"], orphans),
        Job("instance_security_groups", PERIODS["instance_security_groups"], security_groups),
        Job("instance_lifecycle", PERIODS["instance_lifecycle"], lifecycle),
    ]
    if etl is not None:
        jobs.append(etl_job(ctx, *etl))

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


def etl_job(ctx: EngineContext, engine: AsyncEngine, scheduled: ScheduledEtl) -> Job:
    """The scheduled ETL run (docs/etl.md): every ``[schedule] every``, the first at once."""
    from visa_platform.etl.schedule import scheduled_run

    async def run() -> None:
        report = await scheduled_run(
            engine,
            ctx.plugins,
            scheduled,
            default_quota=ctx.settings.instance_user_default_quota,
        )
        log.info("job=etl outcome=%s", "committed" if report.committed else "not_committed")

    return Job("etl", Every(scheduled.every.total_seconds()), run)


def configured_etl(state: Any) -> tuple[AsyncEngine, ScheduledEtl] | None:
    """The scheduled ETL run of ``VISA_ETL_CONFIG``, if any; a broken file is logged, not run."""
    from visa_platform.etl import EtlConfigError
    from visa_platform.etl.schedule import scheduled_job

    try:
        scheduled = scheduled_job()
    except EtlConfigError as exc:
        log.error("job=etl outcome=not_scheduled error=%r", str(exc))
        return None
    if scheduled is None or state.engine is None:
        return None
    return state.engine, scheduled


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
    scheduler, executor = build_scheduler(engine_context(state), etl=configured_etl(state))
    scheduler.start()
    log.info("event=scheduler_started holder=%s", scheduler.lease.holder)
    return EngineScheduler(scheduler, executor)


__all__ = [
    "LEASE_TTL",
    "PERIODS",
    "EngineScheduler",
    "build_scheduler",
    "configured_etl",
    "engine_context",
    "etl_job",
    "queue_requested_deletions",
    "start_scheduler",
]
