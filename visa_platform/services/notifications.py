"""System notifications and acknowledgements (spec/domain.md §1.5, api.md §3.2)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import (
    AcknowledgedSystemNotification,
    Instance,
    InstanceExtensionRequest,
    SystemNotification,
)
from visa_platform.domain.enums import InstanceExtensionRequestState, InstanceState
from visa_platform.domain.errors import NotFound


def notification_uid(notification: SystemNotification) -> int:
    """VISA's derived uid: CRC32 of ``"{id}-{message}-{level}-{activatedAt epoch ms}"``."""
    activated = notification.activated_at
    millis = "null" if activated is None else str(int(activated.timestamp() * 1000))
    text = f"{notification.id}-{notification.message}-{notification.level.name}-{millis}"
    return zlib.crc32(text.encode())


async def active_notifications(session: AsyncSession) -> list[SystemNotification]:
    """Shown notifications: not deleted, activated; newest first."""
    rows = await session.scalars(
        select(SystemNotification)
        .where(
            SystemNotification.deleted_at.is_(None), SystemNotification.activated_at.is_not(None)
        )
        .order_by(SystemNotification.id.desc())
    )
    return list(rows)


@dataclass(frozen=True)
class AdminCounter:
    tag: str
    count: int


async def admin_counters(session: AsyncSession) -> list[AdminCounter]:
    """The admin badges, each only when non-zero (booking requests arrive with bookings)."""
    errors = await session.scalar(
        select(func.count())
        .select_from(Instance)
        .where(Instance.deleted_at.is_(None), Instance.state == InstanceState.ERROR)
    )
    extensions = await session.scalar(
        select(func.count())
        .select_from(InstanceExtensionRequest)
        .where(InstanceExtensionRequest.state == InstanceExtensionRequestState.PENDING)
    )
    counters = [
        AdminCounter("instance.errors", int(errors or 0)),
        AdminCounter("instance.extension.requests", int(extensions or 0)),
    ]
    return [c for c in counters if c.count > 0]


async def acknowledged_ids(session: AsyncSession, user_id: str) -> list[int]:
    rows = await session.scalars(
        select(AcknowledgedSystemNotification.system_notification_id)
        .where(AcknowledgedSystemNotification.acknowledged_by_user_id == user_id)
        .order_by(AcknowledgedSystemNotification.system_notification_id)
    )
    return list(rows)


async def acknowledge(session: AsyncSession, user_id: str, notification_id: int) -> int:
    """Record that the user dismissed a notification (idempotent); 404 for an unknown id."""
    notification = await session.get(SystemNotification, notification_id)
    if notification is None or notification.deleted_at is not None:
        raise NotFound(f"no system notification {notification_id}")
    values = {"system_notification_id": notification_id, "acknowledged_by_user_id": user_id}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(AcknowledgedSystemNotification).values(**values).on_conflict_do_nothing()
    )
    return notification_id
