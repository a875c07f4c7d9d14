"""The instance as the Java server's Jackson serialises its Instance entity for the service.

The example service relies on ``id``, ``members[].role/user`` and
``experiments[].startDate/endDate/instrument.id``; the other fields are sent for site logic.
Dates are ISO-8601 strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models.cloud import Plan
from visa_platform.db.models.facility import Experiment
from visa_platform.db.models.instances import Instance, InstanceMember


def _date(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _user(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "fullName": " ".join(p for p in (user.first_name, user.last_name) if p),
        "email": user.email,
        "affiliationId": user.affiliation_id,
        "instanceQuota": user.instance_quota,
        "lastSeenAt": _date(user.last_seen_at),
        "activatedAt": _date(user.activated_at),
    }


def _plan(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    image, flavour = plan.image, plan.flavour
    return {
        "id": plan.id,
        "preset": plan.preset,
        "image": None
        if image is None
        else {
            "id": image.id,
            "name": image.name,
            "version": image.version,
            "description": image.description,
            "icon": image.icon,
            "computeId": image.compute_id,
            "visible": image.visible,
            "deleted": image.deleted,
            "cloudId": image.cloud_provider_configuration_id,
        },
        "flavour": None
        if flavour is None
        else {
            "id": flavour.id,
            "name": flavour.name,
            "cpu": flavour.cpu,
            "memory": flavour.memory,
            "computeId": flavour.compute_id,
            "deleted": flavour.deleted,
            "cloudId": flavour.cloud_provider_configuration_id,
        },
    }


def _experiment(experiment: Experiment) -> dict[str, Any]:
    proposal = experiment.proposal
    return {
        "id": experiment.id,
        "instrument": {"id": experiment.instrument.id, "name": experiment.instrument.name},
        "proposal": {
            "id": proposal.id,
            "identifier": proposal.identifier,
            "title": proposal.title,
            "publicAt": _date(proposal.public_at),
            "summary": proposal.summary,
            "url": proposal.url,
            "doi": proposal.doi,
        },
        "startDate": _date(experiment.start_date),
        "endDate": _date(experiment.end_date),
        "title": experiment.title,
        "url": experiment.url,
        "doi": experiment.doi,
    }


async def instance_json(
    session: AsyncSession, instance_id: int, cloud_id: int | None
) -> dict[str, Any] | None:
    """The instance entity as JSON, or ``None`` when there is no such instance."""
    stmt = (
        select(Instance)
        .where(Instance.id == instance_id)
        .options(
            selectinload(Instance.plan).selectinload(Plan.image),
            selectinload(Instance.plan).selectinload(Plan.flavour),
            selectinload(Instance.members).selectinload(InstanceMember.user),
            selectinload(Instance.experiments).selectinload(Experiment.instrument),
            selectinload(Instance.experiments).selectinload(Experiment.proposal),
            selectinload(Instance.attributes),
            selectinload(Instance.vdi_protocol),
        )
    )
    instance = (await session.execute(stmt)).scalar_one_or_none()
    if instance is None:
        return None
    members = [
        {"id": m.id, "role": str(m.role), "user": _user(m.user), "createdAt": _date(m.created_at)}
        for m in instance.members
    ]
    owner = next((m["user"] for m in members if m["role"] == "OWNER"), None)
    vdi = instance.vdi_protocol
    return {
        "id": instance.id,
        "uid": instance.uid,
        "computeId": instance.compute_id,
        "name": instance.name,
        "comments": instance.comments,
        "plan": _plan(instance.plan),
        "username": instance.username,
        "ipAddress": instance.ip_address,
        "state": str(instance.state),
        "screenWidth": instance.screen_width,
        "screenHeight": instance.screen_height,
        "lastSeenAt": _date(instance.last_seen_at),
        "lastInteractionAt": _date(instance.last_interaction_at),
        "terminationDate": _date(instance.termination_date),
        "expirationDate": _date(instance.expiration_date),
        "activeAt": _date(instance.active_at),
        "deletedAt": _date(instance.deleted_at),
        "deleteRequested": instance.delete_requested,
        "unrestrictedMemberAccess": _date(instance.unrestricted_member_access),
        "keyboardLayout": instance.keyboard_layout,
        "securityGroups": [g for g in (instance.security_groups or "").split(",") if g],
        "activeProtocols": [p for p in (instance.active_protocols or "").split(",") if p],
        "vdiProtocol": None if vdi is None else {"id": vdi.id, "name": vdi.name, "port": vdi.port},
        "publicAccessToken": instance.public_access_token,
        "publicAccessRole": None
        if instance.public_access_role is None
        else str(instance.public_access_role),
        "lifetimeMinutes": instance.lifetime_minutes,
        "bookingTokenId": instance.booking_token_id,
        "createdAt": _date(instance.created_at),
        "updatedAt": _date(instance.updated_at),
        "members": members,
        "experiments": [_experiment(e) for e in instance.experiments],
        "attributes": [{"name": a.name, "value": a.value} for a in instance.attributes],
        "owner": owner,
        "cloudId": -1 if cloud_id is None else cloud_id,
    }
