"""Remote-desktop and Jupyter sessions as the admin dashboard counts and lists them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models import (
    Instance,
    InstanceJupyterSession,
    InstanceSession,
    InstanceSessionMember,
    User,
)
from visa_platform.db.types import utcnow

#: A session member counts as "active" on the dashboard when it interacted this recently.
RECENT_INTERACTION = timedelta(minutes=5)


def _active_members() -> list[object]:
    return [
        InstanceSessionMember.active.is_(True),
        InstanceSession.current.is_(True),
        Instance.deleted_at.is_(None),
    ]


def _members_query() -> object:
    return (
        select(InstanceSessionMember)
        .join(InstanceSession, InstanceSession.id == InstanceSessionMember.instance_session_id)
        .join(Instance, Instance.id == InstanceSession.instance_id)
    )


async def active_members(
    session: AsyncSession, offset: int, limit: int | None
) -> tuple[list[InstanceSessionMember], int]:
    """Members of current sessions of non-deleted instances, newest first."""
    query = (
        _members_query()
        .where(*_active_members())  # type: ignore[attr-defined]
        .options(
            selectinload(InstanceSessionMember.instance_session),
            selectinload(InstanceSessionMember.user).selectinload(User.affiliation),
        )
        .order_by(InstanceSessionMember.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = list(await session.scalars(query))
    return rows, await count_members(session)


async def count_members(session: AsyncSession, since: datetime | None = None) -> int:
    query = (
        select(func.count())
        .select_from(InstanceSessionMember)
        .join(InstanceSession, InstanceSession.id == InstanceSessionMember.instance_session_id)
        .join(Instance, Instance.id == InstanceSession.instance_id)
        .where(*_active_members())  # type: ignore[arg-type]
    )
    if since is not None:
        query = query.where(InstanceSessionMember.last_interaction_at >= since)
    return int(await session.scalar(query) or 0)


async def count_recently_active_members(session: AsyncSession) -> int:
    return await count_members(session, utcnow() - RECENT_INTERACTION)


async def active_jupyter_sessions(
    session: AsyncSession, offset: int, limit: int | None
) -> tuple[list[InstanceJupyterSession], int]:
    clauses = [InstanceJupyterSession.active.is_(True), Instance.deleted_at.is_(None)]
    query = (
        select(InstanceJupyterSession)
        .join(Instance, Instance.id == InstanceJupyterSession.instance_id)
        .where(*clauses)
        .options(selectinload(InstanceJupyterSession.user).selectinload(User.affiliation))
        .order_by(InstanceJupyterSession.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = list(await session.scalars(query))
    total = await session.scalar(
        select(func.count())
        .select_from(InstanceJupyterSession)
        .join(Instance, Instance.id == InstanceJupyterSession.instance_id)
        .where(*clauses)
    )
    return rows, int(total or 0)


async def count_jupyter_instances(session: AsyncSession) -> int:
    """Distinct non-deleted instances with an active notebook session."""
    total = await session.scalar(
        select(func.count(func.distinct(InstanceJupyterSession.instance_id)))
        .join(Instance, Instance.id == InstanceJupyterSession.instance_id)
        .where(InstanceJupyterSession.active.is_(True), Instance.deleted_at.is_(None))
    )
    return int(total or 0)
