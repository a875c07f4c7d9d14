"""Users: provisioning at login, roles and groups (spec/domain.md §1.1, §4.1; api.md §2.2-§2.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.accounts.contract import INVALID_USER_ID, Account
from visa_platform.db.models import Role, User, UserRole
from visa_platform.db.types import utcnow
from visa_platform.domain.errors import BadRequest


@dataclass(frozen=True)
class RoleGrant:
    """An active role of a user: its name and when it expires (``None`` = never)."""

    name: str
    expires_at: datetime | None


@dataclass(frozen=True)
class LoginResult:
    """The user behind a login, whether it is their first, and their active role names."""

    user: User
    first_login: bool
    roles: frozenset[str]


async def login(
    session: AsyncSession, account: Account, default_quota: int, now: datetime | None = None
) -> LoginResult:
    """Get or create the account's user and record the visit, as VISA does at every login.

    A new user gets the account's names and email (VISA drops the email; we keep it),
    ``activated_at``, ``last_seen_at`` and the default quota. An existing user keeps the names and
    email the ETL gave them; only ``activated_at`` (if unset) and ``last_seen_at`` change. The
    invalid account "0" is never stored. Roles asserted by the provider are granted. Flushes.
    """
    now = now or utcnow()
    if account.user_id == INVALID_USER_ID:
        transient = User(
            id=INVALID_USER_ID,
            first_name=account.first_name,
            last_name=account.last_name or "",
            email=account.email,
            instance_quota=0,
        )
        return LoginResult(transient, first_login=False, roles=frozenset())
    if len(account.user_id) > 250:
        raise BadRequest("account user id is longer than 250 characters")
    user = await session.get(User, account.user_id)
    first_login = user is None or user.activated_at is None
    if user is None:
        user = User(
            id=account.user_id,
            first_name=_clip(account.first_name, 100),
            last_name=_clip(account.last_name, 100) or account.user_id[:100],
            email=_clip(account.email, 100),
            activated_at=now,
            last_seen_at=now,
            instance_quota=default_quota,
        )
        session.add(user)
    else:
        if user.activated_at is None:
            user.activated_at = now
        user.last_seen_at = now
    await session.flush()
    if account.roles:
        await grant_roles(session, user.id, account.roles)
    return LoginResult(user, first_login, await active_role_names(session, user.id, now))


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


async def grant_roles(session: AsyncSession, user_id: str, names: frozenset[str]) -> None:
    """Give ``user_id`` each named role (not group) it lacks; unknown names are refused."""
    roles = (
        await session.scalars(
            select(Role).where(Role.name.in_(names), Role.group_created_at.is_(None))
        )
    ).all()
    unknown = names - {r.name for r in roles}
    if unknown:
        raise BadRequest(f"unknown role(s): {', '.join(sorted(unknown))}")
    held = set(
        (await session.scalars(select(UserRole.role_id).where(UserRole.user_id == user_id))).all()
    )
    for role in roles:
        if role.id not in held:
            session.add(UserRole(user_id=user_id, role_id=role.id))
    await session.flush()


def _active_clause(now: datetime) -> object:
    return and_(
        Role.group_created_at.is_(None),
        or_(UserRole.expires_at.is_(None), UserRole.expires_at > now),
    )


async def active_roles(
    session: AsyncSession, user_id: str, now: datetime | None = None
) -> list[RoleGrant]:
    """The user's active authorisation roles (not groups, not expired), by name."""
    now = now or utcnow()
    rows = await session.execute(
        select(Role.name, UserRole.expires_at)
        .join(UserRole, UserRole.role_id == Role.id)
        .where(UserRole.user_id == user_id, _active_clause(now))  # type: ignore[arg-type]
        .order_by(Role.name)
    )
    return [RoleGrant(name, expires_at) for name, expires_at in rows]


async def active_role_names(
    session: AsyncSession, user_id: str, now: datetime | None = None
) -> frozenset[str]:
    return frozenset(g.name for g in await active_roles(session, user_id, now))


async def group_names(session: AsyncSession, user_id: str) -> list[str]:
    """Names of the user's groups that are not deleted."""
    rows = await session.scalars(
        select(Role.name)
        .join(UserRole, UserRole.role_id == Role.id)
        .where(
            UserRole.user_id == user_id,
            Role.group_created_at.is_not(None),
            Role.group_deleted_at.is_(None),
        )
        .order_by(Role.name)
    )
    return list(rows)


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    """A user with their affiliation loaded."""
    return await session.scalar(
        select(User).options(selectinload(User.affiliation)).where(User.id == user_id)
    )
