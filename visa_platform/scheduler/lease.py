"""The leader lease: one row in ``scheduler_lease`` says which process runs the jobs.

A holder renews its lease well before it expires; any other process takes it over only once it
has expired (its holder died or lost the database). Acquisition and renewal are one conditional
``UPDATE`` (or an ``INSERT`` of the first row), atomic on PostgreSQL and on SQLite, so two
processes can never both believe they hold an unexpired lease.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from visa_platform.db.models import SchedulerLease
from visa_platform.scheduler.clock import Clock, SystemClock

log = logging.getLogger("visa_platform.scheduler")

DEFAULT_LEASE_NAME = "scheduler"


def process_holder_id() -> str:
    """``host:pid:random``: unique per process, readable by an operator."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """A named lease held by ``holder`` for ``ttl`` seconds after each successful renewal."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        holder: str | None = None,
        name: str = DEFAULT_LEASE_NAME,
        ttl: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.holder = holder or process_holder_id()
        self.name = name
        self.ttl = ttl
        self.clock = clock or SystemClock()
        self.held = False

    async def acquire(self) -> bool:
        """Take or renew the lease; True when this process holds it now.

        Any database error counts as "not held" (a holder that cannot reach the database must
        stop acting as the leader).
        """
        now = self.clock.now()
        expires = now + timedelta(seconds=self.ttl)
        try:
            async with self.sessions() as session, session.begin():
                result = await session.execute(
                    update(SchedulerLease)
                    .where(
                        SchedulerLease.name == self.name,
                        or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
                    )
                    .values(holder=self.holder, expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                got = bool(result.rowcount)  # type: ignore[attr-defined]
                if got and not self.held:
                    await session.execute(
                        update(SchedulerLease)
                        .where(SchedulerLease.name == self.name)
                        .values(acquired_at=now)
                        .execution_options(synchronize_session=False)
                    )
            if not got:
                got = await self._insert(now, expires)
        except Exception as exc:
            log.warning("lease=%s holder=%s outcome=error error=%r", self.name, self.holder, exc)
            got = False
        if got != self.held:
            log.info(
                "lease=%s holder=%s outcome=%s", self.name, self.holder, "held" if got else "lost"
            )
        self.held = got
        return got

    async def _insert(self, now: object, expires: object) -> bool:
        try:
            async with self.sessions() as session, session.begin():
                session.add(
                    SchedulerLease(
                        name=self.name, holder=self.holder, acquired_at=now, expires_at=expires
                    )
                )
            return True
        except IntegrityError:
            return False  # somebody else holds it

    async def release(self) -> None:
        """Give the lease up at once (clean shutdown), so that another replica need not wait."""
        if not self.held:
            return
        self.held = False
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(SchedulerLease)
                    .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                    .values(expires_at=self.clock.now() - timedelta(seconds=1))
                    .execution_options(synchronize_session=False)
                )
        except Exception as exc:
            log.warning("lease=%s outcome=release_failed error=%r", self.name, exc)


__all__ = ["DEFAULT_LEASE_NAME", "Lease", "process_holder_id"]
