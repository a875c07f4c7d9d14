"""InstanceDto and friends (spec/api.md §3.4, Appendix A): every key, nulls included."""

from __future__ import annotations

from typing import Any

from visa_platform.api.rest.catalogue_dto import experiment_dto, image_protocol_dto, plan_dto
from visa_platform.api.rest.dto import user_dto
from visa_platform.db.models import (
    Instance,
    InstanceCommand,
    InstanceMember,
    PersonalAccessToken,
    User,
)
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.services.authorization import Access
from visa_platform.services.members import sorted_members


def member_dto(member: InstanceMember) -> dict[str, Any]:
    return {
        "id": member.id,
        "user": user_dto(member.user, affiliation=member.user.affiliation),
        "role": member.role,
    }


def membership_dto(access: Access, caller: User | None, role: InstanceMemberRole) -> Any:
    """The caller's real member row, else a synthetic ``{id: null, user, role}``, else null."""
    if access.member is not None:
        return member_dto(access.member)
    if role is InstanceMemberRole.NONE or caller is None:
        return None
    return {"id": None, "user": user_dto(caller, affiliation=caller.affiliation), "role": role}


def instance_dto(
    instance: Instance,
    access: Access,
    caller: User | None,
    *,
    public_role: InstanceMemberRole | None = None,
) -> dict[str, Any]:
    """The full InstanceDto; ``public_role`` when seen through the public access link."""
    if public_role is not None:
        membership = membership_dto(access, caller, public_role)
        away, unrestricted = False, False
    else:
        membership = membership_dto(access, caller, access.session_role)
        away = access.can_connect_while_owner_away
        unrestricted = instance.unrestricted_member_access is not None
    protocols = instance.active_protocols
    return {
        "id": instance.id,
        "uid": instance.uid,
        "computeId": instance.compute_id,
        "ipAddress": instance.ip_address,
        "name": instance.name,
        "comments": instance.comments,
        "plan": plan_dto(instance.plan) if instance.plan is not None else None,
        "state": instance.state,
        "screenWidth": instance.screen_width,
        "screenHeight": instance.screen_height,
        "members": [member_dto(m) for m in sorted_members(list(instance.members))],
        "experiments": [experiment_dto(e) for e in instance.experiments],
        "membership": membership,
        "lastSeenAt": instance.last_seen_at,
        "createdAt": instance.created_at,
        "lastInteractionAt": instance.last_interaction_at,
        "terminationDate": instance.termination_date,
        "expirationDate": instance.expiration_date or instance.termination_date,
        "deleteRequested": instance.delete_requested,
        "canConnectWhileOwnerAway": away,
        "keyboardLayout": instance.keyboard_layout,
        "unrestrictedAccess": unrestricted,
        "activeProtocols": [p for p in (protocols or "").split(",") if p],
        "vdiProtocol": (
            image_protocol_dto(instance.vdi_protocol) if instance.vdi_protocol is not None else None
        ),
        "publicAccessToken": instance.public_access_token,
        "publicAccessRole": instance.public_access_role,
        "lifetimeMinutes": instance.lifetime_minutes,
    }


def state_dto(instance: Instance) -> dict[str, Any]:
    return {
        "state": instance.state,
        "terminationDate": instance.termination_date,
        "expirationDate": instance.expiration_date,
        "deleteRequested": instance.delete_requested,
        "activeProtocols": [p for p in (instance.active_protocols or "").split(",") if p],
    }


def command_dto(command: InstanceCommand) -> dict[str, Any]:
    return {
        "id": command.id,
        "actionType": command.action_type,
        "state": command.state,
        "message": command.message,
        "createdAt": command.created_at,
    }


def invitation_dto(invitation: PersonalAccessToken, instance: Instance) -> dict[str, Any]:
    """PersonalAccessTokenDto."""
    return {
        "id": invitation.id,
        "instanceId": instance.id,
        "instanceUid": instance.uid,
        "token": invitation.token,
        "name": invitation.name,
        "role": invitation.role,
        "createdAt": invitation.created_at,
    }
