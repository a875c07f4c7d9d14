"""The command executor (spec/domain.md §2.7, InstanceCommandExecutorJob + action manager).

Every run loads the PENDING ``instance_command`` rows (by id) and queues them per instance:
actions of one instance run strictly one after the other, actions of different instances
concurrently, at most ``concurrency`` at a time. A command whose instance already has a queued
or running action of the same type is TERMINATED at once (deduplication). Retryable cloud
errors and an unreachable database are retried with exponential back-off (``retries`` times);
any other failure marks the command FAILED with ``Action failed: <reason>``. A CREATE tried
again first looks for the server its earlier try may have created. A CANCELLED row is never
overwritten.

The queues live in memory; the rows record progress (QUEUED, RUNNING, TERMINATED, FAILED), so a
process that dies leaves QUEUED/RUNNING rows that :meth:`CommandExecutor.recover` puts back to
PENDING when the next process takes the lease. Every run does the same for rows no queue of this
process holds (progress that could not be saved while the database was unreachable), so no
command is lost: at worst an action runs again. System commands (UPDATE_SECURITY_GROUPS from the
reconciliation job) are not persisted, as in VISA: :meth:`CommandExecutor.submit` queues them in
memory only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from visa_platform.compute import CloudError
from visa_platform.db.models import InstanceCommand
from visa_platform.domain.enums import InstanceCommandState, InstanceCommandType
from visa_platform.services import instance_actions as actions
from visa_platform.services.instance_actions import EngineContext

log = logging.getLogger("visa_platform.commands")

Action = Callable[[EngineContext, int, str | None], Awaitable[None]]

ACTIONS: dict[InstanceCommandType, Action] = {
    InstanceCommandType.CREATE: actions.create,
    InstanceCommandType.START: actions.start,
    InstanceCommandType.SHUTDOWN: actions.shutdown,
    InstanceCommandType.REBOOT: actions.reboot,
    InstanceCommandType.DELETE: actions.delete,
    InstanceCommandType.UPDATE_SECURITY_GROUPS: actions.update_security_groups,
}

MESSAGE_LENGTH = 255


@dataclass(frozen=True)
class Queued:
    command_id: int | None  # None: a system command, in memory only
    instance_id: int
    action: InstanceCommandType
    user_id: str | None


DATABASE_UNAVAILABLE = "the database could not be reached; please try again later."


def database_unavailable(exc: BaseException) -> bool:
    """A database failure that may pass: a lost or refused connection, a pool timeout."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, PoolTimeoutError | ConnectionError | TimeoutError)


def retryable(exc: BaseException) -> bool:
    """Retry with back-off: transient cloud errors and an unreachable database."""
    return (isinstance(exc, CloudError) and exc.retryable) or database_unavailable(exc)


def failure_message(exc: BaseException) -> str:
    """``Action failed: <reason>``; cloud errors give their user-safe message."""
    if isinstance(exc, CloudError):
        reason = exc.user_message
    elif database_unavailable(exc):
        reason = DATABASE_UNAVAILABLE
    else:
        reason = str(exc) or type(exc).__name__
    return f"Action failed: {reason}"[:MESSAGE_LENGTH]


class CommandExecutor:
    """Runs persisted instance commands; one object per process, fed by the executor job."""

    def __init__(
        self,
        ctx: EngineContext,
        *,
        concurrency: int = 16,
        retries: int = 3,
        backoff: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.retries = retries
        self.backoff = backoff
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[int, deque[Queued]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._intake = asyncio.Lock()

    # -- the job ----------------------------------------------------------------------------

    async def run_pending(self) -> int:
        """Queue every PENDING command; returns how many were queued (not deduplicated).

        QUEUED/RUNNING rows that no queue of this process holds are taken again first: their
        progress could not be saved (the database was unreachable) or their process died. Runs
        one at a time (several jobs call it); the queues grow only once the rows are committed.
        """
        async with self._intake:
            await self.recover()
            added: list[Queued] = []
            async with self.ctx.sessions() as session:
                commands = (
                    await session.scalars(
                        select(InstanceCommand)
                        .where(InstanceCommand.state == InstanceCommandState.PENDING)
                        .order_by(InstanceCommand.id)
                    )
                ).all()
                if not commands:
                    return 0
                for command in commands:
                    queue = self._queues.get(command.instance_id, ())
                    same = [*queue, *(a for a in added if a.instance_id == command.instance_id)]
                    if command.action_type not in ACTIONS:
                        command.state = InstanceCommandState.FAILED
                        command.message = (
                            f"Action failed: no action for {command.action_type.value}"
                        )
                    elif any(q.action is command.action_type for q in same):
                        command.state = InstanceCommandState.TERMINATED
                    else:
                        command.state = InstanceCommandState.QUEUED
                        added.append(
                            Queued(
                                command.id,
                                command.instance_id,
                                command.action_type,
                                command.user_id,
                            )
                        )
                await session.commit()
            for item in added:
                self._queues.setdefault(item.instance_id, deque()).append(item)
            self._start_workers()
            return len(added)

    def submit(
        self, instance_id: int, action: InstanceCommandType, user_id: str | None = None
    ) -> bool:
        """Queue a system command (not persisted); False when deduplicated."""
        queue = self._queues.setdefault(instance_id, deque())
        if any(q.action is action for q in queue):
            return False
        queue.append(Queued(None, instance_id, action, user_id))
        self._start_workers()
        return True

    def _start_workers(self) -> None:
        for instance_id, queue in list(self._queues.items()):
            if queue and instance_id not in self._workers:
                self._workers[instance_id] = asyncio.create_task(
                    self._work(instance_id), name=f"instance-commands:{instance_id}"
                )
            elif not queue:
                self._queues.pop(instance_id, None)

    async def recover(self) -> int:
        """Put QUEUED/RUNNING rows that no queue of this process holds back to PENDING.

        Called when this process takes the lease, and by every :meth:`run_pending`: such rows
        were left by a process that died (or lost the lease) before finishing them, or by this
        one when the database was unreachable. Returns how many rows were reset.
        """
        mine = [q.command_id for queue in self._queues.values() for q in queue if q.command_id]
        statement = (
            update(InstanceCommand)
            .where(
                InstanceCommand.state.in_(
                    [InstanceCommandState.QUEUED, InstanceCommandState.RUNNING]
                )
            )
            .values(state=InstanceCommandState.PENDING)
            .execution_options(synchronize_session=False)
        )
        if mine:
            statement = statement.where(InstanceCommand.id.not_in(mine))
        async with self.ctx.sessions() as session:
            result = await session.execute(statement)
            await session.commit()
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            log.info("event=commands_recovered count=%s", count)
        return count

    # -- workers ----------------------------------------------------------------------------

    async def _work(self, instance_id: int) -> None:
        queue = self._queues[instance_id]
        try:
            while queue:
                item = queue[0]
                async with self._slots:
                    await self._execute(item)
                queue.popleft()
        finally:
            self._workers.pop(instance_id, None)
            if not queue:
                self._queues.pop(instance_id, None)

    async def _set_state(
        self, command_id: int | None, state: InstanceCommandState, message: str | None = None
    ) -> None:
        if command_id is None:
            return  # a system command: nothing persisted
        async with self.ctx.sessions() as session:
            await session.execute(
                update(InstanceCommand)
                .where(
                    InstanceCommand.id == command_id,
                    InstanceCommand.state != InstanceCommandState.CANCELLED,
                )
                .values(state=state, message=message, updated_at=self.ctx.clock.now())
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def _save_state(
        self, item: Queued, state: InstanceCommandState, message: str | None = None
    ) -> bool:
        """:meth:`_set_state`, retried with back-off while the database is unreachable."""
        for attempt in range(self.retries + 1):
            try:
                await self._set_state(item.command_id, state, message)
                return True
            except Exception as exc:
                if not database_unavailable(exc) or attempt == self.retries:
                    log.error(
                        "command=%s state=%s outcome=state_not_saved error=%r",
                        item.command_id,
                        state.value,
                        str(exc),
                    )
                    return False
                await self.ctx.clock.sleep(self.backoff * 2**attempt)
        return False  # pragma: no cover - the loop always returns

    async def _execute(self, item: Queued) -> None:
        if not await self._save_state(item, InstanceCommandState.RUNNING):
            return  # left QUEUED in the database: the next run_pending takes it again
        failure: BaseException | None = None
        action = ACTIONS[item.action]
        for attempt in range(self.retries + 1):
            try:
                await action(self.ctx, item.instance_id, item.user_id)
                failure = None
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = exc
                if retryable(exc) and attempt < self.retries:
                    delay = self.backoff * 2**attempt
                    log.warning(
                        "command=%s instance=%s action=%s attempt=%s outcome=retry delay=%s "
                        "error=%r",
                        item.command_id,
                        item.instance_id,
                        item.action.value,
                        attempt + 1,
                        delay,
                        str(exc),
                    )
                    await self.ctx.clock.sleep(delay)
                    continue
                break
        if failure is None:
            state, message = InstanceCommandState.TERMINATED, None
        else:
            state, message = InstanceCommandState.FAILED, failure_message(failure)
            log.error(
                "command=%s instance=%s action=%s outcome=failed error=%r",
                item.command_id,
                item.instance_id,
                item.action.value,
                str(failure),
            )
            if item.action is InstanceCommandType.CREATE:
                try:
                    await actions.mark_error(self.ctx, item.instance_id, item.user_id)
                except Exception:
                    log.exception("instance=%s outcome=mark_error_failed", item.instance_id)
        # not saved: the row stays RUNNING and the next run_pending takes it again
        await self._save_state(item, state, message)

    # -- life -------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    async def wait_idle(self) -> None:
        """Wait until every queued action has finished."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the running actions, queue no more; after ``grace`` seconds cancel them.

        Commands not finished stay QUEUED/RUNNING in the database and are recovered by the
        next lease holder.
        """
        from visa_platform.scheduler.core import finish

        for queue in self._queues.values():
            while len(queue) > 1:
                queue.pop()  # keep only what is running
        await finish(list(self._workers.values()), grace)
        self._workers.clear()
        self._queues.clear()


__all__ = [
    "ACTIONS",
    "DATABASE_UNAVAILABLE",
    "CommandExecutor",
    "database_unavailable",
    "failure_message",
    "retryable",
]
