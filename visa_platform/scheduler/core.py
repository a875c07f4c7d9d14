"""Scheduled jobs run by the lease holder only (spec/domain.md §7).

Every ``tick`` seconds the scheduler renews (or tries to take) the lease; while it holds it, it
starts each job that is due, unless the job's previous run is still going (VISA's "skip if still
running"). A job that raises is logged and runs again when it is next due.

A job's schedule is a period in seconds (:class:`Every`, optionally aligned on the clock as
Quartz's ``15 * * ? * *``) or a time of day (:class:`DailyAt`, in the server's local time zone
as VISA's Quartz cron, or an explicit zone). A run missed while no process held the lease is not
caught up: the job runs at its next due time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from visa_platform.scheduler.clock import Clock, SystemClock
from visa_platform.scheduler.lease import Lease

log = logging.getLogger("visa_platform.scheduler")


class Schedule(Protocol):
    """When a job runs: its first due time once a process holds the lease, then the next ones."""

    def first(self, now: datetime) -> datetime:
        """The first due time at or after ``now`` (the lease was just taken)."""
        ...

    def after(self, started: datetime) -> datetime:
        """The next due time after a run that started at ``started``."""
        ...


@dataclass(frozen=True)
class Every:
    """Every ``seconds``. Without ``offset`` the first run is at once and the next ones
    ``seconds`` after each start; with it, runs fall on the instants whose Unix time minus
    ``offset`` is a multiple of ``seconds`` (``Every(60, offset=15)``: every minute at :15).
    """

    seconds: float
    offset: float | None = None

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError("a period must be positive")

    def _aligned(self, moment: datetime, *, inclusive: bool) -> datetime:
        assert self.offset is not None
        stamp = moment.timestamp() - self.offset
        steps = stamp // self.seconds
        if steps * self.seconds < stamp or not inclusive:
            steps += 1
        return datetime.fromtimestamp(steps * self.seconds + self.offset, UTC)

    def first(self, now: datetime) -> datetime:
        return now if self.offset is None else self._aligned(now, inclusive=True)

    def after(self, started: datetime) -> datetime:
        if self.offset is None:
            return started + timedelta(seconds=self.seconds)
        return self._aligned(started, inclusive=False)


@dataclass(frozen=True)
class DailyAt:
    """Every day at ``at`` (VISA's ``0 0 2 ? * *``): local time of ``tz``, or of the server
    when ``tz`` is ``None`` (the process's zone: ``TZ``, ``/etc/localtime``), as Quartz does.

    On the day clocks go forward a time that does not exist runs at the shifted instant (02:30
    in a skipped hour runs at 03:30); on the day they go back, at the first of the two instants.
    Either way the job runs once that day.
    """

    at: time
    tz: tzinfo | None = None

    def _local_date(self, moment: datetime) -> date:
        return (moment.astimezone(self.tz) if self.tz is not None else moment.astimezone()).date()

    def _instant(self, day: date) -> datetime:
        naive = datetime.combine(day, self.at.replace(tzinfo=None))
        if self.tz is None:
            return naive.astimezone(UTC)  # a naive datetime is the server's local time
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    def _following(self, moment: datetime, *, inclusive: bool) -> datetime:
        day = self._local_date(moment)
        for days in range(3):
            candidate = self._instant(day + timedelta(days=days))
            if candidate > moment or (inclusive and candidate == moment):
                return candidate
        raise AssertionError("unreachable: a day has one such instant")  # pragma: no cover

    def first(self, now: datetime) -> datetime:
        return self._following(now, inclusive=True)

    def after(self, started: datetime) -> datetime:
        return self._following(started, inclusive=False)


def schedule_of(value: Schedule | float) -> Schedule:
    """A schedule; a number is a period in seconds (:class:`Every`)."""
    return Every(float(value)) if isinstance(value, int | float) else value


@dataclass(frozen=True)
class Job:
    """A coroutine function run on ``schedule`` (seconds, :class:`Every`, :class:`DailyAt`)."""

    name: str
    schedule: Schedule | float
    run: Callable[[], Awaitable[None]]

    @property
    def when(self) -> Schedule:
        return schedule_of(self.schedule)


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
            due = self._next.get(job.name)
            if due is None:
                due = self._next[job.name] = job.when.first(now)
            if due > now:
                continue
            self._next[job.name] = job.when.after(now)
            running = self._running.get(job.name)
            if running is not None and not running.done():
                continue  # the previous run is still going: skip this one
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

    def next_run(self, name: str) -> datetime | None:
        """When job ``name`` is next due (``None`` until this process holds the lease)."""
        return self._next.get(name)

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


__all__ = ["DailyAt", "Every", "Job", "Schedule", "Scheduler", "finish", "schedule_of"]
