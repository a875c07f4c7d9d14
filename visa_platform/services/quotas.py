"""Instance quotas (spec/api.md §3.3 ``GET /account/quotas``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.accounts.contract import INVALID_USER_ID
from visa_platform.db.models import Instance, InstanceMember, User
from visa_platform.domain.enums import InstanceMemberRole


@dataclass(frozen=True)
class Quota:
    """``max_instances`` is the user's quota (-1 = unlimited, reported as is, like VISA)."""

    max_instances: int
    total_instances: int

    @property
    def available_instances(self) -> int:
        return self.max_instances - self.total_instances


async def owned_instance_count(session: AsyncSession, user_id: str) -> int:
    """Non-deleted instances the user owns."""
    count = await session.scalar(
        select(func.count())
        .select_from(InstanceMember)
        .join(Instance, Instance.id == InstanceMember.instance_id)
        .where(
            InstanceMember.user_id == user_id,
            InstanceMember.role == InstanceMemberRole.OWNER,
            Instance.deleted_at.is_(None),
        )
    )
    return int(count or 0)


async def quota_of(session: AsyncSession, user_id: str) -> Quota:
    if user_id == INVALID_USER_ID:
        return Quota(0, 0)
    user = await session.get(User, user_id)
    if user is None:
        return Quota(0, 0)
    return Quota(user.instance_quota, await owned_instance_count(session, user_id))
