"""Periodic jobs run by the lease holder only (spec/domain.md §7).

Every ``tick`` seconds the scheduler renews (or tries to take) the lease; while it holds it, it
starts each job whose period has elapsed, unless the job's previous run is still going (VISA's
"skip if still running"). A job that raises is logged and runs again at its next period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from visa_platform.scheduler.clock import Clock, SystemClock
from visa_platform.scheduler.lease import Lease

log = logging.getLogger("visa_platform.scheduler")


@dataclass(frozen=True)
class Job:
    """A named coroutine function run every ``period`` seconds."""

    name: str
    period: float
    run: Callable[[], Awaitable[None]]


class Scheduler:
    """Runs :class:`Job` objects on the replica that holds ``lease``."""

    def __init__(
        self,
        lease: Lease,
        jobs: Iterable[Job],
        *,
        clock: Clock | None = None,
        tick: float = 1.0,
        on_acquired: Callable[[], Awaitable[None]] | None = None,
        on_lost: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.lease = lease
        self.jobs = {job.name: job for job in jobs}
        self.clock = clock or lease.clock or SystemClock()
        self.tick_seconds = tick
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self._next: dict[str, datetime] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        #: Completed runs per job (tests and metrics).
        self.runs: dict[str, int] = dict.fromkeys(self.jobs, 0)

    async def tick(self) -> list[str]:
        """Renew the lease and start the due jobs; returns the names of the jobs started."""
        was_held = self.lease.held
        if not await self.lease.acquire():
            self._next.clear()
            if was_held:
                await self._call(self.on_lost, "on_lost")
            return []
        if not was_held:
            await self._call(self.on_acquired, "on_acquired")
        now = self.clock.now()
        started = []
        for job in self.jobs.values():
            if self._next.get(job.name, now) > now:
                continue
            running = self._running.get(job.name)
            if running is not None and not running.done():
                continue  # the previous run is still going: skip this one
            self._next[job.name] = now + timedelta(seconds=job.period)
            self._running[job.name] = asyncio.create_task(self._run(job), name=f"job:{job.name}")
            started.append(job.name)
        return started

    @staticmethod
    async def _call(callback: Callable[[], Awaitable[None]] | None, what: str) -> None:
        if callback is None:
            return
        try:
            await callback()
        except Exception:
            log.exception("scheduler outcome=%s_failed", what)

    async def _run(self, job: Job) -> None:
        try:
            await job.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job=%s outcome=failed", job.name)
        finally:
            self.runs[job.name] = self.runs.get(job.name, 0) + 1

    async def run_job(self, name: str) -> None:
        """Run one job now, whoever holds the lease (tests, ``visa`` commands)."""
        await self._run(self.jobs[name])

    async def drain(self) -> None:
        """Wait for the running jobs to finish."""
        tasks = [t for t in self._running.values() if not t.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- background loop --------------------------------------------------------------------

    def start(self) -> None:
        """Tick in the background (every ``tick`` seconds of real time) until :meth:`stop`."""
        if self._loop is None:
            self._stopping = asyncio.Event()
            self._loop = asyncio.create_task(self._forever(), name="scheduler")

    async def _forever(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler outcome=tick_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_seconds)

    async def stop(self, *, release: bool = True, grace: float = 10.0) -> None:
        """Stop ticking, let running jobs finish (``grace`` seconds, then cancel them) and,
        unless told not to, release the lease.

        Nothing is cancelled in the middle of a database call when it can be helped: a driver
        thread finishing after the event loop closed is an error.
        """
        if self._loop is not None:
            self._stopping.set()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        await finish(list(self._running.values()), grace)
        self._running.clear()
        if release:
            await self.lease.release()


async def finish(tasks: list[asyncio.Task[None]], grace: float) -> None:
    """Wait up to ``grace`` seconds for ``tasks``, then cancel those still running."""
    pending = [t for t in tasks if not t.done()]
    if not pending:
        return
    _, late = await asyncio.wait(pending, timeout=grace)
    for task in late:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


__all__ = ["Job", "Scheduler", "finish"]
