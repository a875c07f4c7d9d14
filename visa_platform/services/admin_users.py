"""Users, roles and groups as administrators manage them (spec/api.md §5.3-§5.4, domain.md §4.9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models import (
    Experiment,
    Instance,
    InstanceMember,
    Role,
    User,
    UserRole,
    experiment_user,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.errors import BadRequest, NotFound

ADMIN_ROLE = "ADMIN"
GUEST_ROLE = "GUEST"


@dataclass(frozen=True)
class UserFilter:
    """``UserFilterInput``."""

    id: str | None = None
    role: str | None = None
    activated: bool | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(criteria: UserFilter, now: datetime) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if criteria.id is not None:
        clauses.append(User.id == criteria.id)
    if criteria.role is not None:
        clauses.append(
            exists().where(
                UserRole.user_id == User.id,
                UserRole.role_id == Role.id,
                Role.name == criteria.role,
                Role.group_deleted_at.is_(None),
                or_(UserRole.expires_at.is_(None), UserRole.expires_at > now),
            )
        )
    if criteria.activated is True:
        clauses.append(User.activated_at.is_not(None))
    elif criteria.activated is False:
        clauses.append(User.activated_at.is_(None))
    return clauses


def _ordered(query: Select[Any], name: str | None, ascending: bool | None) -> Any:
    columns: list[Any]
    if name == "id":
        columns = [User.id]
    elif name == "lastSeenAt":
        columns = [User.last_seen_at]
    elif name == "lastName":
        columns = [User.last_name, User.first_name]
    elif name == "activatedAt":
        columns = [User.activated_at]
    else:
        columns, ascending = [User.activated_at], False  # the default
    direction = [c.asc() if ascending is not False else c.desc() for c in columns]
    return query.order_by(*direction, User.id)


async def _page(
    session: AsyncSession,
    clauses: Sequence[ColumnElement[bool]],
    order: tuple[str | None, bool | None],
    offset: int,
    limit: int | None,
) -> tuple[list[User], int]:
    query = _ordered(
        select(User).options(selectinload(User.affiliation)).where(*clauses), *order
    ).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = list(await session.scalars(query))
    total = await session.scalar(select(func.count()).select_from(User).where(*clauses))
    return rows, int(total or 0)


async def search(
    session: AsyncSession,
    criteria: UserFilter,
    order_name: str | None,
    ascending: bool | None,
    offset: int,
    limit: int | None,
) -> tuple[list[User], int]:
    return await _page(
        session, _conditions(criteria, utcnow()), (order_name, ascending), offset, limit
    )


async def count(session: AsyncSession, criteria: UserFilter) -> int:
    total = await session.scalar(
        select(func.count()).select_from(User).where(*_conditions(criteria, utcnow()))
    )
    return int(total or 0)


async def recent_active(
    session: AsyncSession, offset: int, limit: int | None
) -> tuple[list[User], int]:
    """Activated users, last seen first."""
    return await _page(
        session, [User.activated_at.is_not(None)], ("lastSeenAt", False), offset, limit
    )


async def search_by_last_name(
    session: AsyncSession, last_name: str, only_activated: bool, offset: int, limit: int | None
) -> tuple[list[User], int]:
    """Users whose last name starts with ``last_name`` (case-insensitive), by last name."""
    clauses: list[ColumnElement[bool]] = [
        func.lower(User.last_name).like(f"{_escape_like(last_name.lower())}%", escape="\\")
    ]
    if only_activated:
        clauses.append(User.activated_at.is_not(None))
    return await _page(session, clauses, ("lastName", True), offset, limit)


async def get(session: AsyncSession, user_id: str) -> User:
    user = await session.scalar(
        select(User).options(selectinload(User.affiliation)).where(User.id == user_id)
    )
    if user is None:
        raise NotFound(f"User with id {user_id} not found")
    return user


# -- nested data, for many users at once ------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """``UserRole``: a role (not a group) held, and when it expires."""

    role: Role
    expires_at: datetime | None


async def active_roles(session: AsyncSession, user_ids: list[str]) -> dict[str, list[Grant]]:
    now = utcnow()
    rows = await session.execute(
        select(UserRole.user_id, Role, UserRole.expires_at)
        .join(Role, Role.id == UserRole.role_id)
        .where(
            UserRole.user_id.in_(user_ids),
            Role.group_created_at.is_(None),
            or_(UserRole.expires_at.is_(None), UserRole.expires_at > now),
        )
        .order_by(Role.name)
    )
    found: dict[str, list[Grant]] = {}
    for user_id, role, expires_at in rows:
        found.setdefault(user_id, []).append(Grant(role, expires_at))
    return found


async def groups(session: AsyncSession, user_ids: list[str]) -> dict[str, list[Role]]:
    rows = await session.execute(
        select(UserRole.user_id, Role)
        .join(Role, Role.id == UserRole.role_id)
        .where(
            UserRole.user_id.in_(user_ids),
            Role.group_created_at.is_not(None),
            Role.group_deleted_at.is_(None),
        )
        .order_by(Role.name)
    )
    found: dict[str, list[Role]] = {}
    for user_id, role in rows:
        found.setdefault(user_id, []).append(role)
    return found


async def member_instance_ids(session: AsyncSession, user_ids: list[str]) -> dict[str, list[int]]:
    """Non-deleted instances each user is a member of, newest first."""
    rows = await session.execute(
        select(InstanceMember.user_id, Instance.id)
        .join(Instance, Instance.id == InstanceMember.instance_id)
        .where(InstanceMember.user_id.in_(user_ids), Instance.deleted_at.is_(None))
        .order_by(Instance.id.desc())
    )
    found: dict[str, list[int]] = {}
    for user_id, instance_id in rows:
        ids = found.setdefault(user_id, [])
        if instance_id not in ids:
            ids.append(instance_id)
    return found


async def experiments(session: AsyncSession, user_ids: list[str]) -> dict[str, list[Experiment]]:
    rows = await session.execute(
        select(experiment_user.c.user_id, Experiment)
        .join(Experiment, Experiment.id == experiment_user.c.experiment_id)
        .where(experiment_user.c.user_id.in_(user_ids))
        .options(selectinload(Experiment.proposal), selectinload(Experiment.instrument))
        .order_by(Experiment.start_date.desc(), Experiment.id)
    )
    found: dict[str, list[Experiment]] = {}
    for user_id, experiment in rows:
        found.setdefault(user_id, []).append(experiment)
    return found


# -- roles and groups --------------------------------------------------------------------------


async def roles_and_groups(session: AsyncSession, *, roles: bool, groups: bool) -> list[Role]:
    """Roles (``group_created_at`` null) and/or groups that are not deleted, by name."""
    clauses: list[ColumnElement[bool]] = [Role.group_deleted_at.is_(None)]
    if roles and not groups:
        clauses.append(Role.group_created_at.is_(None))
    elif groups and not roles:
        clauses.append(Role.group_created_at.is_not(None))
    return list(await session.scalars(select(Role).where(*clauses).order_by(Role.name, Role.id)))


async def _unique_name(session: AsyncSession, name: str, except_id: int | None = None) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise BadRequest("a group name needs 1 to 100 characters")
    taken = await session.scalar(
        select(Role.id).where(func.lower(Role.name) == name.lower(), Role.id != (except_id or -1))
    )
    if taken is not None:
        raise BadRequest(f"a role or group named {name!r} already exists")
    return name


def _description(value: str | None) -> str | None:
    if value is not None and len(value) > 250:
        raise BadRequest("a group description has at most 250 characters")
    return value


async def create_group(session: AsyncSession, name: str, description: str | None) -> Role:
    group = Role(
        name=await _unique_name(session, name),
        description=_description(description),
        group_created_at=utcnow(),
    )
    session.add(group)
    await session.flush()
    return group


async def _group(session: AsyncSession, group_id: int) -> Role:
    group = await session.get(Role, group_id)
    if group is None or group.group_created_at is None or group.group_deleted_at is not None:
        raise NotFound(f"Group with id {group_id} not found")
    return group


async def update_group(
    session: AsyncSession, group_id: int, name: str, description: str | None
) -> Role:
    group = await _group(session, group_id)
    group.name = await _unique_name(session, name, group.id)
    group.description = _description(description)
    await session.flush()
    return group


async def delete_group(session: AsyncSession, group_id: int) -> bool:
    """Soft delete: ``group_deleted_at`` set (members keep the row; it no longer counts)."""
    group = await _group(session, group_id)
    group.group_deleted_at = utcnow()
    await session.flush()
    return True


# -- user changes ------------------------------------------------------------------------------


async def _set_role(
    session: AsyncSession, user_id: str, role: Role, enabled: bool, expires_at: datetime | None
) -> None:
    link = await session.get(UserRole, (user_id, role.id))
    if enabled and link is None:
        session.add(UserRole(user_id=user_id, role_id=role.id, expires_at=expires_at))
    elif enabled and link is not None:
        link.expires_at = expires_at
    elif not enabled and link is not None:
        await session.delete(link)
    await session.flush()


async def _role_named(session: AsyncSession, name: str) -> Role:
    role = await session.scalar(
        select(Role).where(Role.name == name, Role.group_deleted_at.is_(None))
    )
    if role is None:
        raise NotFound(f"Role {name!r} not found")
    return role


async def update_user_role(
    session: AsyncSession, user_id: str, role_name: str, enabled: bool
) -> User:
    """Give or take a role (or group) by name."""
    user = await get(session, user_id)
    await _set_role(session, user.id, await _role_named(session, role_name), enabled, None)
    return user


@dataclass(frozen=True)
class UserChange:
    """``UserInput``."""

    instance_quota: int
    admin: bool
    guest: bool
    guest_expires_at: datetime | None
    group_ids: tuple[int, ...] | None


async def update_user(session: AsyncSession, user_id: str, change: UserChange) -> User:
    """ADMIN and GUEST on or off (GUEST with an optional expiry), groups synced, quota set."""
    if change.instance_quota < 0:
        raise BadRequest("instanceQuota must be 0 or more")
    user = await get(session, user_id)
    await _set_role(session, user.id, await _role_named(session, ADMIN_ROLE), change.admin, None)
    await _set_role(
        session,
        user.id,
        await _role_named(session, GUEST_ROLE),
        change.guest,
        change.guest_expires_at if change.guest else None,
    )
    if change.group_ids is not None:
        wanted = set(change.group_ids)
        found = list(
            await session.scalars(
                select(Role).where(
                    Role.id.in_(wanted),
                    Role.group_created_at.is_not(None),
                    Role.group_deleted_at.is_(None),
                )
            )
        )
        unknown = wanted - {g.id for g in found}
        if unknown:
            raise BadRequest(f"unknown group id(s): {', '.join(map(str, sorted(unknown)))}")
        held = list(
            await session.scalars(
                select(UserRole)
                .join(Role, Role.id == UserRole.role_id)
                .where(UserRole.user_id == user.id, Role.group_created_at.is_not(None))
            )
        )
        for link in held:
            if link.role_id not in wanted:
                await session.delete(link)
        held_ids = {link.role_id for link in held}
        for group in found:
            if group.id not in held_ids:
                session.add(UserRole(user_id=user.id, role_id=group.id))
    user.instance_quota = change.instance_quota
    await session.flush()
    return user
