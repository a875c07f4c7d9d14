"""The lease and the scheduler: one holder at a time, renewal, takeover after expiry."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.engine import session_factory
from visa_platform.scheduler import Job, Lease, ManualClock, Scheduler


async def test_one_holder_renewal_and_takeover_after_expiry(db_engine: AsyncEngine) -> None:
    sessions = session_factory(db_engine)
    clock = ManualClock()
    a = Lease(sessions, holder="a", ttl=10, clock=clock)
    b = Lease(sessions, holder="b", ttl=10, clock=clock)
    assert await a.acquire() and not await b.acquire()
    clock.advance(8)
    assert await a.acquire()  # renewed: expires 10 s from now
    clock.advance(8)
    assert not await b.acquire()  # would have expired without the renewal
    clock.advance(2.5)  # a died 10.5 s ago
    assert await b.acquire() and b.held
    assert not await a.acquire() and not a.held
    await b.release()
    assert await a.acquire()  # released: no need to wait for the expiry


async def test_concurrent_acquisition_has_one_winner(db_engine: AsyncEngine) -> None:
    sessions = session_factory(db_engine)
    clock = ManualClock()
    leases = [Lease(sessions, holder=f"h{n}", ttl=10, clock=clock) for n in range(4)]
    results = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(results) == 1


def counting_jobs(log: list[tuple[str, str]], who: str) -> list[Job]:
    async def fast() -> None:
        log.append((who, "fast"))

    async def slow() -> None:
        log.append((who, "slow"))

    return [Job("fast", 2, fast), Job("slow", 10, slow)]


async def test_two_schedulers_never_run_a_job_twice(db_engine: AsyncEngine) -> None:
    sessions = session_factory(db_engine)
    clock = ManualClock()
    runs: list[tuple[str, str]] = []
    acquired: list[str] = []

    def scheduler(who: str) -> Scheduler:
        async def on_acquired() -> None:
            acquired.append(who)

        lease = Lease(sessions, holder=who, ttl=5, clock=clock)
        return Scheduler(lease, counting_jobs(runs, who), clock=clock, on_acquired=on_acquired)

    a, b = scheduler("a"), scheduler("b")
    for _ in range(60):  # one simulated minute, both ticking every second
        await a.tick()
        await b.tick()
        await a.drain()
        await b.drain()
        clock.advance(1)
    assert {who for who, _ in runs} == {"a"}
    assert runs.count(("a", "fast")) == 30 and runs.count(("a", "slow")) == 6
    assert acquired == ["a"]

    # a dies (stops renewing, keeps its row); b takes over once the lease has expired
    runs.clear()
    for second in range(20):
        await b.tick()
        await b.drain()
        if second < 5:
            assert runs == []
        clock.advance(1)
    assert {who for who, _ in runs} == {"b"} and ("b", "fast") in runs
    assert acquired == ["a", "b"]


async def test_a_run_still_going_is_not_started_again(db_engine: AsyncEngine) -> None:
    sessions = session_factory(db_engine)
    clock = ManualClock()
    release = asyncio.Event()
    started = 0

    async def slow() -> None:
        nonlocal started
        started += 1
        await release.wait()

    scheduler = Scheduler(Lease(sessions, clock=clock), [Job("slow", 1, slow)], clock=clock)
    for _ in range(5):
        await scheduler.tick()
        await asyncio.sleep(0)
        clock.advance(1)
    assert started == 1
    release.set()
    await scheduler.drain()
    await scheduler.tick()
    await scheduler.drain()
    assert started == 2
    await scheduler.stop()


async def test_failing_job_is_logged_and_runs_again(db_engine: AsyncEngine) -> None:
    sessions = session_factory(db_engine)
    clock = ManualClock()
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    scheduler = Scheduler(Lease(sessions, clock=clock), [Job("broken", 1, broken)], clock=clock)
    for _ in range(3):
        await scheduler.tick()
        await scheduler.drain()
        clock.advance(1)
    assert calls == 3 and scheduler.runs["broken"] == 3


async def test_background_loop_starts_and_stops(db_engine: AsyncEngine) -> None:
    sessions = session_factory(db_engine)
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    scheduler = Scheduler(Lease(sessions, holder="x"), [Job("job", 60, job)], tick=0.01)
    scheduler.start()
    await asyncio.wait_for(ran.wait(), 5)
    await scheduler.stop()
    assert not scheduler.lease.held
    other = Lease(sessions, holder="y")
    assert await other.acquire()  # released at stop
