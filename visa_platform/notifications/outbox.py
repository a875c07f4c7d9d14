"""The persisted outbox: notifications waiting for delivery kept in ``notification_outbox``.

Each (notification, channel) is one row. A process *claims* due rows for ``lease`` seconds before
delivering them, so that several replicas never deliver the same row at once; a row whose claim
expired (its process died) is claimed again. A notification is written once per channel (unique
notification id and channel), so queuing it again does nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from visa_platform.db.models.outbox import NotificationOutbox
from visa_platform.db.types import utcnow
from visa_platform.notifications.model import Notification

PENDING, SENT, FAILED = "PENDING", "SENT", "FAILED"
_DATETIME = "$datetime"


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_value(v) for v in value]
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_DATETIME}:
            return datetime.fromisoformat(value[_DATETIME])
        return {k: _decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


def encode(notification: Notification) -> str:
    """The notification as JSON (datetimes in the context are kept as datetimes)."""
    data = {f.name: getattr(notification, f.name) for f in fields(notification)}
    data["context"] = dict(notification.context)
    return json.dumps(_encode_value(data))


def decode(payload: str) -> Notification:
    data = _decode_value(json.loads(payload))
    for name in ("recipients", "cc", "bcc"):
        data[name] = tuple(data.get(name) or ())
    known = {f.name for f in fields(Notification)}
    return Notification(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class ClaimedDelivery:
    """A row claimed by this process: deliver it, then mark it."""

    row_id: int
    notification: Notification
    channel: str
    attempts: int


class OutboxStore:
    """Rows of ``notification_outbox`` through short transactions of ``sessions``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], lease: float = 120.0) -> None:
        self.sessions = sessions
        self.lease = lease

    async def add(self, items: list[tuple[Notification, str]]) -> None:
        """Write pending rows; a (notification, channel) already written is left alone."""
        if not items:
            return
        now = utcnow()
        async with self.sessions() as session, session.begin():
            ids = sorted({n.id for n, _ in items})
            found = await session.execute(
                select(NotificationOutbox.notification_id, NotificationOutbox.channel).where(
                    NotificationOutbox.notification_id.in_(ids)
                )
            )
            existing = {(str(row[0]), str(row[1])) for row in found.all()}
            for notification, channel in items:
                if (notification.id, channel) in existing:
                    continue
                existing.add((notification.id, channel))
                session.add(
                    NotificationOutbox(
                        notification_id=notification.id,
                        channel=channel,
                        kind=str(notification.kind),
                        payload=encode(notification),
                        state=PENDING,
                        attempts=0,
                        next_attempt_at=now,
                    )
                )

    async def claim(self, limit: int, channels: set[str]) -> list[ClaimedDelivery]:
        """Claim up to ``limit`` due rows of ``channels`` for ``lease`` seconds."""
        now = utcnow()
        free = or_(
            NotificationOutbox.claimed_until.is_(None), NotificationOutbox.claimed_until < now
        )
        claimed: list[ClaimedDelivery] = []
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(NotificationOutbox)
                    .where(
                        NotificationOutbox.state == PENDING,
                        NotificationOutbox.next_attempt_at <= now,
                        NotificationOutbox.channel.in_(sorted(channels)),
                        free,
                    )
                    .order_by(NotificationOutbox.id)
                    .limit(limit)
                )
            ).scalars()
            for row in list(rows):
                result = await session.execute(
                    update(NotificationOutbox)
                    .where(
                        NotificationOutbox.id == row.id,
                        NotificationOutbox.state == PENDING,
                        free,
                    )
                    .values(claimed_until=now + timedelta(seconds=self.lease))
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(
                        ClaimedDelivery(row.id, decode(row.payload), row.channel, row.attempts)
                    )
        return claimed

    async def _set(self, row_id: int, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(NotificationOutbox)
                .where(NotificationOutbox.id == row_id)
                .values(updated_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )

    async def sent(self, row_id: int, attempts: int) -> None:
        await self._set(row_id, state=SENT, attempts=attempts, claimed_until=None)

    async def retry(self, row_id: int, attempts: int, delay: float, error: str) -> None:
        await self._set(
            row_id,
            attempts=attempts,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            claimed_until=None,
            last_error=error[:1000],
        )

    async def failed(self, row_id: int, attempts: int, error: str) -> None:
        await self._set(
            row_id, state=FAILED, attempts=attempts, claimed_until=None, last_error=error[:1000]
        )

    async def release(self, row_ids: list[int]) -> None:
        """Give claimed rows back (shutdown), to be delivered by the next process."""
        if not row_ids:
            return
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(NotificationOutbox)
                .where(NotificationOutbox.id.in_(row_ids), NotificationOutbox.state == PENDING)
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    async def pending(self) -> int:
        """How many rows still wait for a delivery."""
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(NotificationOutbox)
                .where(NotificationOutbox.state == PENDING)
            )
            return int(count or 0)
