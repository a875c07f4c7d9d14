"""Sharing an instance: desktop tickets, the public link and personal invitation links
(spec/api.md §2.1 items 4-5, §3.4; desktop-security-cloud.md §2.5)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import (
    Instance,
    InstanceAuthenticationToken,
    InstanceMember,
    PersonalAccessToken,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.domain.errors import BadRequest, NotAuthorized, NotFound
from visa_platform.services.authorization import Access

SHAREABLE_ROLES = frozenset({InstanceMemberRole.USER, InstanceMemberRole.GUEST})
INVITATION_ROLES = frozenset(
    {InstanceMemberRole.USER, InstanceMemberRole.GUEST, InstanceMemberRole.SUPPORT}
)


async def desktop_ticket(
    session: AsyncSession,
    instance: Instance,
    user_id: str,
    access: Access,
    public_access_token: str | None = None,
) -> str:
    """A 15-second single-use ticket to open the instance's remote desktop.

    Without a public token the caller must be authorised, and a non-owner only gets one once the
    owner has logged in to the desktop (``instance.username`` set); the portal reads 401 as "the
    owner has not connected". With a public token it must match the instance's.
    """
    if public_access_token is None:
        if not access.is_authorised or (not access.is_owner and instance.username is None):
            raise NotAuthorized("the owner has not connected to this instance")
    elif (
        instance.public_access_token is None or public_access_token != instance.public_access_token
    ):
        raise NotAuthorized("invalid public access token")
    token = str(uuid.uuid4())
    session.add(
        InstanceAuthenticationToken(
            token=token,
            instance_id=instance.id,
            user_id=user_id,
            public_access_token=public_access_token,
        )
    )
    await session.flush()
    return token


def _shareable(role: InstanceMemberRole) -> InstanceMemberRole:
    if role not in SHAREABLE_ROLES:
        raise BadRequest("a public link gives the role USER or GUEST")
    return role


async def create_public_link(
    session: AsyncSession, instance: Instance, role: InstanceMemberRole
) -> None:
    instance.public_access_token = str(uuid.uuid4())
    instance.public_access_role = _shareable(role)
    await session.flush()


async def change_public_link(
    session: AsyncSession, instance: Instance, role: InstanceMemberRole
) -> None:
    if instance.public_access_token is None:
        raise NotFound("the instance has no public access link")
    instance.public_access_role = _shareable(role)
    await session.flush()


async def remove_public_link(session: AsyncSession, instance: Instance) -> None:
    instance.public_access_token = None
    instance.public_access_role = None
    await session.flush()


async def open_invitations(session: AsyncSession, instance: Instance) -> list[PersonalAccessToken]:
    """Invitations neither used nor deleted, oldest first."""
    rows = await session.scalars(
        select(PersonalAccessToken)
        .where(
            PersonalAccessToken.instance_id == instance.id,
            PersonalAccessToken.user_id.is_(None),
            PersonalAccessToken.deleted_at.is_(None),
        )
        .order_by(PersonalAccessToken.id)
    )
    return list(rows)


def _invitation_role(role: InstanceMemberRole) -> InstanceMemberRole:
    if role not in INVITATION_ROLES:
        raise BadRequest("an invitation gives the role USER, GUEST or SUPPORT")
    return role


async def create_invitation(
    session: AsyncSession, instance: Instance, name: str, role: InstanceMemberRole
) -> PersonalAccessToken:
    invitation = PersonalAccessToken(
        token=str(uuid.uuid4()), name=name, instance_id=instance.id, role=_invitation_role(role)
    )
    session.add(invitation)
    await session.flush()
    return invitation


async def open_invitation(
    session: AsyncSession, instance: Instance, token_id: str
) -> PersonalAccessToken:
    if not token_id.isdigit():
        raise NotFound("invitation not found")
    invitation = await session.scalar(
        select(PersonalAccessToken).where(
            PersonalAccessToken.id == int(token_id),
            PersonalAccessToken.instance_id == instance.id,
            PersonalAccessToken.user_id.is_(None),
            PersonalAccessToken.deleted_at.is_(None),
        )
    )
    if invitation is None:
        raise NotFound("invitation not found")
    return invitation


async def update_invitation(
    session: AsyncSession, invitation: PersonalAccessToken, name: str, role: InstanceMemberRole
) -> PersonalAccessToken:
    invitation.name = name
    invitation.role = _invitation_role(role)
    await session.flush()
    return invitation


async def delete_invitation(session: AsyncSession, invitation: PersonalAccessToken) -> None:
    invitation.deleted_at = utcnow()
    await session.flush()


async def accept_invitation(
    session: AsyncSession, instance: Instance, user_id: str, token: str, now: datetime | None = None
) -> bool:
    """Consume an open invitation of this instance: the caller becomes a member with its role.

    Returns whether an invitation was consumed. Each invitation works once.
    """
    invitation = await session.scalar(
        select(PersonalAccessToken).where(
            PersonalAccessToken.token == token,
            PersonalAccessToken.instance_id == instance.id,
            PersonalAccessToken.user_id.is_(None),
            PersonalAccessToken.deleted_at.is_(None),
        )
    )
    if invitation is None or invitation.role is None:
        return False
    invitation.user_id = user_id
    invitation.activated_at = now or utcnow()
    if not any(m.user_id == user_id for m in instance.members):
        session.add(InstanceMember(instance_id=instance.id, user_id=user_id, role=invitation.role))
    await session.flush()
    return True
