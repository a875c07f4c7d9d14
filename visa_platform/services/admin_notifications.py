"""System notifications managed by administrators (spec/domain.md §6.2).

Every change is followed by ``global:notifications_changed`` for every connected client; the
caller publishes :func:`changed_event` after committing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import SystemNotification
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import SystemNotificationLevel, SystemNotificationType
from visa_platform.domain.errors import BadRequest, NotFound
from visa_platform.events.broker import EVERYONE, Event

MAX_MESSAGE = 4096


def changed_event() -> Event:
    return Event("global:notifications_changed", EVERYONE)


@dataclass(frozen=True)
class NotificationChange:
    """``SystemNotificationInput``; ``activated_at`` is ``yyyy-MM-dd HH:mm:s`` or None."""

    message: str
    level: SystemNotificationLevel
    type: SystemNotificationType
    activated_at: str | None


def parse_activation(value: str | None) -> datetime | None:
    """``yyyy-MM-dd HH:mm:s`` (the original's pattern: one or two digits of seconds), UTC."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise BadRequest(f"invalid activatedAt {value!r}: expected yyyy-MM-dd HH:mm:ss")


def _apply(notification: SystemNotification, change: NotificationChange) -> None:
    if not change.message.strip() or len(change.message) > MAX_MESSAGE:
        raise BadRequest(f"a notification message needs 1 to {MAX_MESSAGE} characters")
    notification.message = change.message
    notification.level = change.level
    notification.type = change.type
    notification.activated_at = parse_activation(change.activated_at)


async def notifications(session: AsyncSession) -> list[SystemNotification]:
    """Every notification that is not deleted, newest first."""
    return list(
        await session.scalars(
            select(SystemNotification)
            .where(SystemNotification.deleted_at.is_(None))
            .order_by(SystemNotification.id.desc())
        )
    )


async def create(session: AsyncSession, change: NotificationChange) -> SystemNotification:
    notification = SystemNotification()
    _apply(notification, change)
    session.add(notification)
    await session.flush()
    return notification


async def _find(session: AsyncSession, notification_id: int) -> SystemNotification:
    found = await session.get(SystemNotification, notification_id)
    if found is None or found.deleted_at is not None:
        raise NotFound(f"System notification with id {notification_id} not found")
    return found


async def update(
    session: AsyncSession, notification_id: int, change: NotificationChange
) -> SystemNotification:
    notification = await _find(session, notification_id)
    _apply(notification, change)
    await session.flush()
    return notification


async def delete(session: AsyncSession, notification_id: int) -> SystemNotification:
    """Soft delete."""
    notification = await _find(session, notification_id)
    notification.deleted_at = utcnow()
    await session.flush()
    return notification
