"""Extension requests: an owner asks for more lifetime (spec/domain.md §3.5, api.md §3.4).

The rules (one pending request, automatic acceptance by image) are here, and the emails a new
request sends (spec/domain.md §6.1 #6 to the administrators, #7 to the owner when it was
accepted at once); the caller queues them after its commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.config import Settings
from visa_platform.db.models import Instance, InstanceExpiration, InstanceExtensionRequest
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import (
    ImageAutoAcceptExtensionRequest,
    InstanceExtensionRequestState,
    InstanceMemberRole,
)
from visa_platform.domain.errors import BadRequest
from visa_platform.notifications import messages
from visa_platform.notifications.model import Notification


async def pending(session: AsyncSession, instance: Instance) -> InstanceExtensionRequest | None:
    return await session.scalar(
        select(InstanceExtensionRequest)
        .where(
            InstanceExtensionRequest.instance_id == instance.id,
            InstanceExtensionRequest.state == InstanceExtensionRequestState.PENDING,
        )
        .order_by(InstanceExtensionRequest.id.desc())
        .limit(1)
    )


async def request_extension(
    session: AsyncSession,
    instance: Instance,
    comments: str | None,
    owner_roles: frozenset[str],
    settings: Settings,
    now: datetime | None = None,
) -> tuple[InstanceExtensionRequest, bool]:
    """The pending request (created if there is none) and whether it was created now.

    A new request is accepted at once when the image says so for everyone (ALL) or for staff
    owners (STAFF): the termination date moves by the instance's lifetime (at most the maximum
    for the flavour) and any scheduled expiry is cancelled.
    """
    from visa_platform.services.plans import max_lifetime_minutes

    existing = await pending(session, instance)
    if existing is not None:
        return existing, False
    if instance.termination_date is None:
        raise BadRequest("this instance has no termination date: there is nothing to extend")
    now = now or utcnow()
    request = InstanceExtensionRequest(
        instance_id=instance.id,
        comments=comments,
        state=InstanceExtensionRequestState.PENDING,
        original_termination_date=instance.termination_date,
    )
    session.add(request)
    image = instance.plan.image if instance.plan is not None else None
    policy = image.auto_accept_extension_request if image is not None else None
    automatic = policy is ImageAutoAcceptExtensionRequest.ALL or (
        policy is ImageAutoAcceptExtensionRequest.STAFF and "STAFF" in owner_roles
    )
    if automatic and instance.plan is not None and instance.plan.flavour is not None:
        maximum = await max_lifetime_minutes(
            session, instance.plan.flavour.id, owner_roles, settings
        )
        lifetime = min(instance.lifetime_minutes or maximum, maximum)
        instance.termination_date = instance.termination_date + timedelta(minutes=lifetime)
        instance.expiration_date = None
        await session.execute(
            delete(InstanceExpiration).where(InstanceExpiration.instance_id == instance.id)
        )
        request.state = InstanceExtensionRequestState.ACCEPTED
        request.extension_date = instance.termination_date
        request.handled_on = now
        request.handler_comments = "Accepted automatically"
    await session.flush()
    return request, True


def request_emails(
    instance: Instance,
    request: InstanceExtensionRequest,
    owner_roles: frozenset[str],
    settings: Settings,
) -> list[Notification]:
    """#6 to the ADMIN address (`` (automatically accepted)`` when it was) and, for an automatic
    acceptance, #7 to the owner with the administrators in copy. Needs the instance as
    ``services.instances.load`` gives it (members with users, plan with image and flavour)."""
    owner_user = next(
        (m.user for m in instance.members if m.role is InstanceMemberRole.OWNER), None
    )
    if owner_user is None:
        return []
    owner = messages.Person.of(owner_user, owner_roles)
    info = messages.InstanceInfo(id=instance.id, uid=instance.uid, name=instance.name)
    plan = instance.plan
    image = plan.image if plan is not None else None
    flavour = plan.flavour if plan is not None else None
    accepted = request.state is InstanceExtensionRequestState.ACCEPTED
    found: list[Notification | None] = [
        messages.extension_requested(
            messages.ExtensionRequestInfo(
                instance=info,
                owner=owner,
                employer=owner_user.affiliation.name if owner_user.affiliation else None,
                created_at=request.created_at or utcnow(),
                termination_date=request.original_termination_date,
                flavour=flavour.name if flavour is not None else None,
                image=image.name if image is not None else None,
                image_version=image.version if image is not None else None,
                comments=request.comments,
            ),
            auto_accepted=accepted,
        )
    ]
    if accepted:
        found.append(
            messages.extension_handled(
                owner,
                info,
                accepted=True,
                termination_date=request.extension_date,
                handler_comments=request.handler_comments,
                limits=messages.Limits.from_settings(settings),
            )
        )
    return [n for n in found if n is not None]
