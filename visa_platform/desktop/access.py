"""Who connects to a desktop, with which role (spec §1.4 steps 2-6, domain.md §4.7).

:func:`load_visitor` reads what the rules need in one go; :func:`entry_decision` then applies them
without I/O, given whether the owner is connected right now.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import BookingRequest, BookingToken, Instance, User
from visa_platform.db.models.facility import instrument_scientist
from visa_platform.desktop.tickets import Ticket
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.services import instances
from visa_platform.services.authorization import (
    Caller,
    InstanceFacts,
    access,
    active_role_names,
    staff_owner_ids,
)


@dataclass(frozen=True)
class ConnectedUser:
    """``{id, fullName, role}`` as the portal shows the people in a desktop session."""

    id: str
    full_name: str
    role: InstanceMemberRole

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "fullName": self.full_name, "role": self.role.value}

    def with_role(self, role: InstanceMemberRole) -> ConnectedUser:
        return ConnectedUser(self.id, self.full_name, role)


def full_name(user: User) -> str:
    return " ".join(part for part in (user.first_name, user.last_name) if part)


@dataclass(frozen=True)
class Visitor:
    """A ticket holder and everything the entry rules need about them and the instance."""

    user: ConnectedUser
    instance: Instance
    #: The role after the public-link rule (NONE = no access at all).
    role: InstanceMemberRole
    public: bool
    can_connect_while_owner_away: bool
    owner_is_staff: bool

    @property
    def may_create_session(self) -> bool:
        """Only the owner, or who may connect while the owner is away, opens a new desktop."""
        return self.role is InstanceMemberRole.OWNER or self.can_connect_while_owner_away


class Entry(enum.Enum):
    """What happens to a browser opening the desktop socket."""

    CONNECT = "CONNECT"
    REQUEST_ACCESS = "REQUEST_ACCESS"  # support user waiting for the owner's answer
    OWNER_AWAY = "OWNER_AWAY"
    DENIED = "DENIED"


async def load_visitor(session: AsyncSession, ticket: Ticket, now: datetime) -> Visitor | None:
    """The ticket's user and instance with their rights; ``None`` if either has gone."""
    user = await session.get(User, ticket.user_id)
    found = await instances.load(session, [ticket.instance_id])
    if user is None or not found or found[0].deleted_at is not None:
        return None
    instance = found[0]
    owner_id = next(
        (m.user_id for m in instance.members if m.role is InstanceMemberRole.OWNER), None
    )
    owner_is_staff = owner_id is not None and bool(await staff_owner_ids(session, [owner_id]))
    booking_owner_id = None
    if instance.booking_token_id is not None:
        booking_owner_id = await session.scalar(
            select(BookingRequest.owner_id)
            .join(BookingToken, BookingToken.booking_request_id == BookingRequest.id)
            .where(BookingToken.id == instance.booking_token_id)
        )
    roles = await active_role_names(session, user.id, now)
    scientist_of = frozenset(
        await session.scalars(
            select(instrument_scientist.c.instrument_id).where(
                instrument_scientist.c.user_id == user.id
            )
        )
    )
    facts = InstanceFacts(
        instance, instance.members, instance.experiments, owner_is_staff, booking_owner_id
    )
    rights = access(Caller(user.id, roles, scientist_of), facts, now)
    role = rights.session_role
    public = False
    if (
        role in (InstanceMemberRole.NONE, InstanceMemberRole.SUPPORT)
        and ticket.public_access_token is not None
        and ticket.public_access_token == instance.public_access_token
    ):
        # Java also switches a NONE user without a matching token; we require the token.
        role = instance.public_access_role or InstanceMemberRole.NONE
        public = True
    return Visitor(
        user=ConnectedUser(user.id, full_name(user), role),
        instance=instance,
        role=role,
        public=public,
        can_connect_while_owner_away=rights.can_connect_while_owner_away,
        owner_is_staff=owner_is_staff,
    )


def entry_decision(visitor: Visitor, owner_connected: bool) -> Entry:
    """Spec §1.4 step 6: connect, ask the owner, or turn away."""
    if visitor.role is InstanceMemberRole.NONE:
        return Entry.DENIED
    if visitor.public:
        return Entry.CONNECT if owner_connected else Entry.OWNER_AWAY
    if visitor.role is InstanceMemberRole.SUPPORT and not visitor.can_connect_while_owner_away:
        return Entry.REQUEST_ACCESS if owner_connected else Entry.OWNER_AWAY
    return Entry.CONNECT


def granted_role(reply: str, visitor: Visitor) -> InstanceMemberRole:
    """The role an owner's answer gives a support user (spec §1.8 steps 3 and 5).

    ``GUEST`` stays read-only; ``SUPPORT`` is full support only when the owner is not staff and
    the requester may connect while the owner is away, otherwise ``USER``; anything else refuses.
    """
    if reply == InstanceMemberRole.GUEST.value:
        return InstanceMemberRole.GUEST
    if reply == InstanceMemberRole.SUPPORT.value:
        if not visitor.owner_is_staff and visitor.can_connect_while_owner_away:
            return InstanceMemberRole.SUPPORT
        return InstanceMemberRole.USER
    return InstanceMemberRole.NONE


__all__ = [
    "ConnectedUser",
    "Entry",
    "Visitor",
    "entry_decision",
    "granted_role",
    "load_visitor",
]
