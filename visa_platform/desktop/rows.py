"""The desktop's database rows: ``instance_session``, ``instance_session_member``,
``instance_activity`` and the instance's activity columns (spec §1.5, §1.9, §1.11, §1.15).

Decisions that need the view of every replica (is the owner connected? who is in the session?)
read these rows, never the in-memory state of one process. Callers commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import (
    Instance,
    InstanceActivity,
    InstanceExpiration,
    InstanceJupyterSession,
    InstanceSession,
    InstanceSessionMember,
    User,
)
from visa_platform.desktop.access import ConnectedUser, full_name
from visa_platform.domain.enums import InstanceActivityType, InstanceMemberRole


async def current_session(
    session: AsyncSession, instance_id: int, protocol: str
) -> InstanceSession | None:
    """The latest current session of (instance, protocol); older current rows are retired.

    Several current rows only exist after a race between replicas: the highest id wins.
    """
    rows = list(
        await session.scalars(
            select(InstanceSession)
            .where(
                InstanceSession.instance_id == instance_id,
                InstanceSession.protocol == protocol,
                InstanceSession.current.is_(True),
            )
            .order_by(InstanceSession.id.desc())
        )
    )
    for stale in rows[1:]:
        stale.current = False
    return rows[0] if rows else None


async def owner_connected(session: AsyncSession, instance_id: int, protocol: str) -> bool:
    """An active OWNER member in a current session of this instance and protocol."""
    found = await session.scalar(
        select(InstanceSessionMember.id)
        .join(InstanceSession, InstanceSession.id == InstanceSessionMember.instance_session_id)
        .where(
            InstanceSession.instance_id == instance_id,
            InstanceSession.protocol == protocol,
            InstanceSession.current.is_(True),
            InstanceSessionMember.active.is_(True),
            InstanceSessionMember.role == InstanceMemberRole.OWNER,
        )
        .limit(1)
    )
    return found is not None


async def owner_in_session(session: AsyncSession, instance_session_id: int) -> bool:
    """An active OWNER member in this very session."""
    found = await session.scalar(
        select(InstanceSessionMember.id)
        .where(
            InstanceSessionMember.instance_session_id == instance_session_id,
            InstanceSessionMember.active.is_(True),
            InstanceSessionMember.role == InstanceMemberRole.OWNER,
        )
        .limit(1)
    )
    return found is not None


async def create_session(
    session: AsyncSession, instance_id: int, protocol: str, connection_id: str, now: datetime
) -> InstanceSession:
    row = InstanceSession(
        instance_id=instance_id,
        protocol=protocol,
        connection_id=connection_id,
        current=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def retire_session(session: AsyncSession, instance_session_id: int) -> None:
    """The session can no longer be joined (``current = false``)."""
    await session.execute(
        update(InstanceSession)
        .where(InstanceSession.id == instance_session_id)
        .values(current=False)
        .execution_options(synchronize_session=False)
    )


async def add_member(
    session: AsyncSession,
    instance_session_id: int,
    client_id: str,
    user: ConnectedUser,
    now: datetime,
) -> InstanceSessionMember:
    """A new active member row; an earlier active row of the same client is closed first."""
    await session.execute(
        update(InstanceSessionMember)
        .where(
            InstanceSessionMember.instance_session_id == instance_session_id,
            InstanceSessionMember.session_id == client_id,
            InstanceSessionMember.active.is_(True),
        )
        .values(active=False, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    row = InstanceSessionMember(
        instance_session_id=instance_session_id,
        session_id=client_id,
        user_id=user.id,
        role=user.role,
        active=True,
        last_interaction_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def end_member(session: AsyncSession, member_id: int, now: datetime) -> None:
    """The client left: its row becomes inactive (duration = updated_at - created_at)."""
    await session.execute(
        update(InstanceSessionMember)
        .where(InstanceSessionMember.id == member_id, InstanceSessionMember.active.is_(True))
        .values(active=False, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def active_members(
    session: AsyncSession, instance_session_id: int
) -> list[tuple[str, ConnectedUser]]:
    """(client id, user) of everyone connected to a session, from every replica's rows."""
    rows = await session.execute(
        select(InstanceSessionMember.session_id, InstanceSessionMember.role, User)
        .join(User, User.id == InstanceSessionMember.user_id)
        .where(
            InstanceSessionMember.instance_session_id == instance_session_id,
            InstanceSessionMember.active.is_(True),
        )
        .order_by(InstanceSessionMember.id)
    )
    return [
        (client_id, ConnectedUser(user.id, full_name(user), role)) for client_id, role, user in rows
    ]


async def session_exists(session: AsyncSession, instance_session_id: int) -> bool:
    found = await session.scalar(
        select(InstanceSession.id).where(InstanceSession.id == instance_session_id)
    )
    return found is not None


async def instance_activated(session: AsyncSession, instance_id: int) -> None:
    """``onInstanceActivated``: drop a pending *inactivity* expiration (spec §1.5 step 8)."""
    instance = await session.get(Instance, instance_id)
    if instance is None:
        return
    expiration = await session.scalar(
        select(InstanceExpiration).where(InstanceExpiration.instance_id == instance_id)
    )
    if expiration is None:
        return
    if instance.termination_date is None or instance.termination_date > expiration.expiration_date:
        await session.delete(expiration)
        instance.expiration_date = None
        await session.flush()


async def record_activity(
    session: AsyncSession,
    *,
    instance_id: int,
    member_id: int,
    user_id: str,
    now: datetime,
    last_interaction_at: datetime | None,
    activity: InstanceActivityType | None,
) -> None:
    """The throttled bookkeeping of spec §1.9 step 6 for one client."""
    values: dict[str, datetime] = {"last_seen_at": now}
    if last_interaction_at is not None:
        values["last_interaction_at"] = last_interaction_at
    await session.execute(
        update(Instance)
        .where(Instance.id == instance_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if last_interaction_at is not None:
        await session.execute(
            update(InstanceSessionMember)
            .where(InstanceSessionMember.id == member_id)
            .values(last_interaction_at=last_interaction_at, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    if activity is not None:
        session.add(
            InstanceActivity(
                user_id=user_id, instance_id=instance_id, activity_type=activity, created_at=now
            )
        )
    await session.flush()


async def end_sessions(session: AsyncSession, instance_id: int | None = None) -> None:
    """The desktop sessions of ``instance_id`` (of every instance when None) can no longer be
    joined (``current = false``) and their members are inactive. ``updated_at`` is left as it
    is: nobody left, the sessions were ended from outside (a power action, a restart)."""
    members = update(InstanceSessionMember).where(InstanceSessionMember.active.is_(True))
    sessions = update(InstanceSession).where(InstanceSession.current.is_(True))
    if instance_id is not None:
        of_instance = select(InstanceSession.id).where(InstanceSession.instance_id == instance_id)
        members = members.where(InstanceSessionMember.instance_session_id.in_(of_instance))
        sessions = sessions.where(InstanceSession.instance_id == instance_id)
    for statement in (members.values(active=False), sessions.values(current=False)):
        await session.execute(statement.execution_options(synchronize_session=False))


async def clean_all_sessions(session: AsyncSession) -> None:
    """Start-up cleanup (VISA_VDI_CLEANUP_SESSIONS_ON_STARTUP, single replica only): every
    session non-current, every member and Jupyter session inactive."""
    await end_sessions(session)
    await session.execute(
        update(InstanceJupyterSession)
        .where(InstanceJupyterSession.active.is_(True))
        .values(active=False)
        .execution_options(synchronize_session=False)
    )


async def end_members_of_clients(
    session: AsyncSession, instance_session_ids: list[int], now: datetime
) -> None:
    """Close every active member row of these sessions (this process is letting them go)."""
    if instance_session_ids:
        await session.execute(
            update(InstanceSessionMember)
            .where(
                InstanceSessionMember.instance_session_id.in_(instance_session_ids),
                InstanceSessionMember.active.is_(True),
            )
            .values(active=False, updated_at=now)
            .execution_options(synchronize_session=False)
        )


__all__ = [
    "active_members",
    "add_member",
    "clean_all_sessions",
    "create_session",
    "current_session",
    "end_member",
    "end_members_of_clients",
    "end_sessions",
    "instance_activated",
    "owner_connected",
    "owner_in_session",
    "record_activity",
    "retire_session",
    "session_exists",
]
