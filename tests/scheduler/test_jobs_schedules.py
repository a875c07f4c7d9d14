"""Schedules: periods, periods aligned on the clock, times of day (zones, DST), in the scheduler."""

from __future__ import annotations

import time as systime
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.engine import session_factory
from visa_platform.scheduler import DailyAt, Every, Job, Lease, ManualClock, Scheduler
from visa_platform.scheduler.jobs import PERIODS

PARIS = ZoneInfo("Europe/Paris")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_plain_period_runs_at_once_then_after_each_start() -> None:
    every = Every(5)
    now = utc("2026-01-01 10:00:03")
    assert every.first(now) == now
    assert every.after(now) == now + timedelta(seconds=5)
    with pytest.raises(ValueError, match="positive"):
        Every(0)


def test_an_aligned_period_falls_on_the_clock() -> None:
    minute_at_15 = Every(60, offset=15)  # Quartz "15 * * ? * *"
    assert minute_at_15.first(utc("2026-01-01 10:00:20")) == utc("2026-01-01 10:01:15")
    assert minute_at_15.first(utc("2026-01-01 10:00:15")) == utc("2026-01-01 10:00:15")
    assert minute_at_15.first(utc("2026-01-01 10:00:14.5")) == utc("2026-01-01 10:00:15")
    assert minute_at_15.after(utc("2026-01-01 10:00:15")) == utc("2026-01-01 10:01:15")
    assert minute_at_15.after(utc("2026-01-01 10:00:15.8")) == utc("2026-01-01 10:01:15")


def test_a_time_of_day_in_a_zone() -> None:
    two = DailyAt(time(2, 0), PARIS)
    # 2026-01-10 is winter time (UTC+1): 02:00 Paris is 01:00 UTC
    assert two.first(utc("2026-01-10 00:30")) == utc("2026-01-10 01:00")
    assert two.first(utc("2026-01-10 01:00")) == utc("2026-01-10 01:00")
    assert two.after(utc("2026-01-10 01:00")) == utc("2026-01-11 01:00")
    assert two.first(utc("2026-01-10 01:00:01")) == utc("2026-01-11 01:00")
    # summer time (UTC+2)
    assert two.first(utc("2026-07-01 12:00")) == utc("2026-07-02 00:00")


def runs_between(schedule: DailyAt, start: str, days: int) -> list[datetime]:
    moment = schedule.first(utc(start))
    runs = []
    while moment < utc(start) + timedelta(days=days):
        runs.append(moment)
        moment = schedule.after(moment)
    return runs


def test_daylight_saving_days_run_once() -> None:
    # clocks go forward on 2026-03-29 at 02:00 Paris: 02:30 does not exist that day
    runs = runs_between(DailyAt(time(2, 30), PARIS), "2026-03-27 12:00", 4)
    local = [r.astimezone(PARIS).strftime("%m-%d %H:%M") for r in runs]
    assert local == ["03-28 02:30", "03-29 03:30", "03-30 02:30", "03-31 02:30"]
    # clocks go back on 2026-10-25 at 03:00 Paris: 02:30 happens twice, runs at the first
    runs = runs_between(DailyAt(time(2, 30), PARIS), "2026-10-23 12:00", 4)
    assert [r.strftime("%m-%d %H:%M") for r in runs] == [
        "10-24 00:30",
        "10-25 00:30",  # 02:30 summer time
        "10-26 01:30",
        "10-27 01:30",
    ]


@pytest.fixture
def paris_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is Europe/Paris for the test (``TZ``)."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    systime.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        systime.tzset()


@pytest.mark.usefixtures("paris_local_time")
def test_without_a_zone_the_server_local_time_is_used() -> None:
    two = DailyAt(time(2, 0))
    assert two.first(utc("2026-01-10 00:30")) == utc("2026-01-10 01:00")
    assert two.first(utc("2026-07-01 12:00")) == utc("2026-07-02 00:00")


def test_the_spec_jobs_have_their_spec_schedules() -> None:
    assert PERIODS["instance_authentication_tokens"] == 15
    assert PERIODS["cloud_resources"] == Every(60, offset=15)
    assert PERIODS["instance_activity_cleanup"] == DailyAt(time(1, 0))
    assert PERIODS["cloud_instance_cleanup"] == DailyAt(time(2, 0))
    assert PERIODS["instance_security_groups"] == DailyAt(time(6, 0))


async def test_the_scheduler_runs_daily_and_aligned_jobs_on_time(db_engine: AsyncEngine) -> None:
    clock = ManualClock(utc("2026-01-01 00:00:00"))
    runs: dict[str, list[datetime]] = {"daily": [], "minute": [], "period": []}

    def recorder(name: str) -> Job:
        async def run() -> None:
            runs[name].append(clock.now())

        return Job(name, schedules[name], run)

    schedules = {
        "daily": DailyAt(time(1, 0), UTC),
        "minute": Every(60, offset=15),
        "period": Every(1800),
    }
    lease = Lease(session_factory(db_engine), holder="me", ttl=30, clock=clock)
    scheduler = Scheduler(lease, [recorder(n) for n in schedules], clock=clock)
    for _ in range(90 * 4):  # 90 simulated minutes, a tick every 15 s
        await scheduler.tick()
        await scheduler.drain()
        clock.advance(15)
    assert runs["daily"] == [utc("2026-01-01 01:00")]
    assert scheduler.next_run("daily") == utc("2026-01-02 01:00")
    assert len(runs["minute"]) == 90
    assert all(r.second == 15 for r in runs["minute"])
    assert runs["period"] == [utc(f"2026-01-01 {t}") for t in ("00:00", "00:30", "01:00")]


async def test_a_daily_run_missed_without_the_lease_is_not_caught_up(
    db_engine: AsyncEngine,
) -> None:
    clock = ManualClock(utc("2026-01-01 03:00:00"))  # the lease is first taken after 02:00
    ran: list[datetime] = []

    async def run() -> None:
        ran.append(clock.now())

    lease = Lease(session_factory(db_engine), holder="late", ttl=30, clock=clock)
    scheduler = Scheduler(lease, [Job("daily", DailyAt(time(2, 0), UTC), run)], clock=clock)
    await scheduler.tick()
    await scheduler.drain()
    assert ran == [] and scheduler.next_run("daily") == utc("2026-01-02 02:00")
    clock.advance(23 * 3600)
    await scheduler.tick()
    await scheduler.drain()
    assert ran == [utc("2026-01-02 02:00")]
