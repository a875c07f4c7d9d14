"""Time for the scheduler and its jobs, injectable so that tests run minutes in milliseconds."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol

from visa_platform.db.types import utcnow


class Clock(Protocol):
    """Wall-clock time (aware, UTC) and sleeping."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told: ``advance(seconds)``; ``sleep`` advances it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


__all__ = ["Clock", "ManualClock", "SystemClock"]
