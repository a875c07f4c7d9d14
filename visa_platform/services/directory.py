"""Finding people: user search for sharing, support staff, one user's profile (api.md §3.3).

Roles and groups of several users are read in two queries in total, never one per user.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models import Role, User, UserRole
from visa_platform.db.types import utcnow
from visa_platform.services.users import RoleGrant

SEARCH_LIMIT = 250
"""The most users a name search returns (VISA's page of 250)."""

SUPPORT_ROLES = ("INSTRUMENT_SCIENTIST", "INSTRUMENT_CONTROL", "IT_SUPPORT", "SCIENTIFIC_COMPUTING")
"""Holders of these roles are offered as support members of an instance."""


@dataclass
class UserProfile:
    """A user with their active roles and their groups (names)."""

    user: User
    roles: list[RoleGrant] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


_BY_NAME = (func.lower(User.last_name), func.lower(User.first_name), User.id)
"""Name order that is the same on every database, whatever its collation."""


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_by_last_name(session: AsyncSession, prefix: str) -> list[User]:
    """Activated users whose last name starts with ``prefix`` (any case), by last then first name.

    An empty prefix finds nobody rather than everybody.
    """
    if not prefix:
        return []
    pattern = _escape_like(prefix.lower()) + "%"
    query = (
        select(User)
        .options(selectinload(User.affiliation))
        .where(
            User.activated_at.is_not(None), func.lower(User.last_name).like(pattern, escape="\\")
        )
        .order_by(*_BY_NAME)
        .limit(SEARCH_LIMIT)
    )
    return list(await session.scalars(query))


def _active_role(now: datetime) -> object:
    return or_(UserRole.expires_at.is_(None), UserRole.expires_at > now)


async def support_users(session: AsyncSession, now: datetime | None = None) -> list[UserProfile]:
    """Users holding an active support role, by last name, with their roles and groups."""
    now = now or utcnow()
    holders = (
        select(UserRole.user_id)
        .join(Role, Role.id == UserRole.role_id)
        .where(
            Role.name.in_(SUPPORT_ROLES),
            Role.group_created_at.is_(None),
            _active_role(now),  # type: ignore[arg-type]
        )
    )
    users = list(
        await session.scalars(
            select(User)
            .options(selectinload(User.affiliation))
            .where(User.id.in_(holders))
            .order_by(*_BY_NAME)
        )
    )
    return await profiles(session, users, now)


async def profile(session: AsyncSession, user_id: str) -> UserProfile | None:
    """One user with roles and groups, or ``None`` when unknown."""
    user = await session.scalar(
        select(User).options(selectinload(User.affiliation)).where(User.id == user_id)
    )
    if user is None:
        return None
    return (await profiles(session, [user]))[0]


async def profiles(
    session: AsyncSession, users: list[User], now: datetime | None = None
) -> list[UserProfile]:
    """Attach active roles and non-deleted groups to ``users`` (two queries for all of them)."""
    now = now or utcnow()
    found = [UserProfile(u) for u in users]
    if not users:
        return found
    by_id = {p.user.id: p for p in found}
    ids = list(by_id)
    roles: dict[str, list[RoleGrant]] = defaultdict(list)
    rows = await session.execute(
        select(UserRole.user_id, Role.name, UserRole.expires_at)
        .join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id.in_(ids), Role.group_created_at.is_(None), _active_role(now))  # type: ignore[arg-type]
        .order_by(Role.name)
    )
    for user_id, name, expires_at in rows:
        roles[user_id].append(RoleGrant(name, expires_at))
    groups: dict[str, list[str]] = defaultdict(list)
    group_rows = await session.execute(
        select(UserRole.user_id, Role.name)
        .join(Role, Role.id == UserRole.role_id)
        .where(
            UserRole.user_id.in_(ids),
            Role.group_created_at.is_not(None),
            Role.group_deleted_at.is_(None),
        )
        .order_by(Role.name)
    )
    for user_id, name in group_rows:
        groups[user_id].append(name)
    for user_id, item in by_id.items():
        item.roles = roles.get(user_id, [])
        item.groups = groups.get(user_id, [])
    return found
