"""Instance members (spec/api.md §3.4 members endpoints, domain.md §4.3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models import Instance, InstanceMember, User
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.domain.errors import BadRequest, NotFound
from visa_platform.notifications import messages
from visa_platform.notifications.model import Notification


def sorted_members(members: list[InstanceMember]) -> list[InstanceMember]:
    """Owner first, then by last name (then first name, then id)."""
    return sorted(
        members,
        key=lambda m: (
            m.role is not InstanceMemberRole.OWNER,
            (m.user.last_name or "").lower(),
            (m.user.first_name or "").lower(),
            m.id,
        ),
    )


async def add(
    session: AsyncSession, instance: Instance, user_id: str, role: InstanceMemberRole
) -> InstanceMember:
    """Add a member; a second OWNER and the computed NONE role are refused (VISA allowed them)."""
    if role in (InstanceMemberRole.OWNER, InstanceMemberRole.NONE):
        raise BadRequest(f"a member cannot be added with the role {role.name}")
    user = await session.scalar(
        select(User).options(selectinload(User.affiliation)).where(User.id == user_id)
    )
    if user is None:
        raise BadRequest("User not found")
    existing = next((m for m in instance.members if m.user_id == user_id), None)
    if existing is not None:
        raise BadRequest("the user is already a member of this instance")
    member = InstanceMember(instance_id=instance.id, user_id=user_id, role=role)
    member.user = user
    session.add(member)
    await session.flush()
    return member


async def member_added_email(
    session: AsyncSession, instance: Instance, member: InstanceMember, settings: Any
) -> Notification | None:
    """Email #4 (spec/domain.md §6.1) to the member just added by the owner or an admin.

    ``None`` when the member has no address. Not for the OWNER role (never added this way) and
    not when an invitation is accepted (``services.sharing`` adds those members itself).
    """
    from visa_platform.services.users import active_role_names

    if member.role is InstanceMemberRole.OWNER:
        return None
    owner = next((m.user for m in instance.members if m.role is InstanceMemberRole.OWNER), None)
    return messages.instance_member_added(
        messages.Person.of(member.user, await active_role_names(session, member.user_id)),
        messages.InstanceInfo(id=instance.id, uid=instance.uid, name=instance.name),
        member.role.name,
        messages.Person.of(owner) if owner is not None else messages.Person(""),
        messages.Limits.from_settings(settings),
    )


def member_of(instance: Instance, member_id: str) -> InstanceMember:
    if not member_id.isdigit():
        raise NotFound("member not found")
    member = next((m for m in instance.members if m.id == int(member_id)), None)
    if member is None:
        raise NotFound("member not found")
    return member


async def change_role(
    session: AsyncSession, member: InstanceMember, role: InstanceMemberRole
) -> InstanceMember:
    if role is InstanceMemberRole.OWNER:
        raise BadRequest("Cannot make a member an owner of the instance")
    if role is InstanceMemberRole.NONE or member.role is InstanceMemberRole.OWNER:
        raise BadRequest("the owner's role cannot be changed")
    member.role = role
    await session.flush()
    return member


async def remove(session: AsyncSession, instance: Instance, member: InstanceMember) -> None:
    if member.role is InstanceMemberRole.OWNER:
        raise NotFound("the owner cannot be removed")
    instance.members.remove(member)
    await session.flush()
