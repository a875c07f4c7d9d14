"""Who may do what with an instance: the predicates of spec/domain.md §4.4 in one place.

Everything is computed from data loaded in bulk beforehand (the caller's roles and instruments
once per request; each instance's members, experiments and owner's staff status once per list),
so deciding access for a page of instances costs no extra query per instance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import Experiment, Instance, InstanceMember
from visa_platform.db.models.facility import instrument_scientist
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.domain.errors import NotAuthorized, NotFound
from visa_platform.domain.principal import Principal
from visa_platform.services.users import active_role_names

INSTRUMENT_CONTROL_WINDOW = timedelta(days=7)
SUPPORT_ROLES = frozenset({"ADMIN", "IT_SUPPORT", "INSTRUMENT_CONTROL", "INSTRUMENT_SCIENTIST"})


@dataclass(frozen=True)
class Caller:
    """The requesting user with what the predicates need about them."""

    user_id: str
    roles: frozenset[str]
    scientist_instrument_ids: frozenset[int]

    @property
    def is_admin(self) -> bool:
        return "ADMIN" in self.roles


async def caller_for(session: AsyncSession, principal: Principal) -> Caller:
    """One query for the instruments the user is scientist of (roles come with the principal)."""
    rows = await session.scalars(
        select(instrument_scientist.c.instrument_id).where(
            instrument_scientist.c.user_id == principal.user_id
        )
    )
    return Caller(principal.user_id, principal.roles, frozenset(rows))


@dataclass(frozen=True)
class InstanceFacts:
    """What the predicates need about one instance, loaded beforehand."""

    instance: Instance
    members: Sequence[InstanceMember]
    experiments: Sequence[Experiment]
    owner_is_staff: bool
    booking_owner_id: str | None = None


@dataclass(frozen=True)
class Access:
    """The caller's rights on one instance."""

    member: InstanceMember | None
    is_owner: bool
    is_owner_or_admin: bool
    is_support: bool
    can_connect_while_owner_away: bool
    session_role: InstanceMemberRole

    @property
    def is_authorised(self) -> bool:
        return self.member is not None or self.is_support


def is_support(caller: Caller, facts: InstanceFacts, now: datetime) -> bool:
    """``isInstanceSupport``: only the first matching role is tested (VISA's order)."""
    roles = caller.roles
    if "ADMIN" in roles:
        return True
    if "IT_SUPPORT" in roles:
        return facts.instance.deleted_at is None
    if "INSTRUMENT_CONTROL" in roles:
        return any(
            e.start_date is not None
            and e.end_date is not None
            and e.start_date <= now + INSTRUMENT_CONTROL_WINDOW
            and e.end_date >= now - INSTRUMENT_CONTROL_WINDOW
            for e in facts.experiments
        )
    if "INSTRUMENT_SCIENTIST" in roles:
        return any(e.instrument_id in caller.scientist_instrument_ids for e in facts.experiments)
    return facts.booking_owner_id is not None and facts.booking_owner_id == caller.user_id


def access(caller: Caller, facts: InstanceFacts, now: datetime) -> Access:
    member = next((m for m in facts.members if m.user_id == caller.user_id), None)
    is_owner = member is not None and member.role is InstanceMemberRole.OWNER
    support = is_support(caller, facts, now)
    unrestricted = facts.instance.unrestricted_member_access is not None
    if is_owner or (member is not None and unrestricted):
        away = True
    elif support:
        away = unrestricted or (
            facts.instance.booking_token_id is None and not facts.owner_is_staff
        )
    else:
        away = False
    if member is not None:
        session_role = member.role
    elif caller.roles & SUPPORT_ROLES or (
        facts.booking_owner_id is not None and facts.booking_owner_id == caller.user_id
    ):
        session_role = InstanceMemberRole.SUPPORT
    else:
        session_role = InstanceMemberRole.NONE
    return Access(
        member=member,
        is_owner=is_owner,
        is_owner_or_admin=is_owner or caller.is_admin,
        is_support=support,
        can_connect_while_owner_away=away,
        session_role=session_role,
    )


def require_authorised(result: Access, *, status: str = "404") -> None:
    """``isAuthorisedForInstance`` or 404 (or 401 where VISA answers so)."""
    if not result.is_authorised:
        if status == "401":
            raise NotAuthorized("you are not allowed to access this instance")
        raise NotFound("instance not found")


def require_owner_or_admin(result: Access) -> None:
    """``isOwnerOrAdmin``; a member who is not gets 401, anyone else 404 (VISA's answers)."""
    if result.is_owner_or_admin:
        return
    if result.member is not None:
        raise NotAuthorized("only the owner of the instance may do this")
    raise NotFound("instance not found")


def require_owner(result: Access) -> None:
    """Owner only (administrators included out); 401 otherwise, as VISA answers."""
    if not result.is_owner:
        raise NotAuthorized("only the owner of the instance may do this")


async def staff_owner_ids(
    session: AsyncSession, owner_ids: Iterable[str], now: datetime | None = None
) -> set[str]:
    """Which of these users hold the STAFF role, unexpired at ``now`` (default: the real clock).

    One query. Jobs pass their engine clock's ``now`` so a simulated time decides expiry too.
    """
    ids = set(owner_ids)
    if not ids:
        return set()
    from visa_platform.db.models import Role, UserRole
    from visa_platform.db.types import utcnow

    now = now or utcnow()
    rows = await session.scalars(
        select(UserRole.user_id)
        .join(Role, Role.id == UserRole.role_id)
        .where(
            UserRole.user_id.in_(ids),
            Role.name == "STAFF",
            Role.group_created_at.is_(None),
            (UserRole.expires_at.is_(None)) | (UserRole.expires_at > now),
        )
    )
    return set(rows)


__all__ = ["Caller", "InstanceFacts", "active_role_names", "caller_for"]
