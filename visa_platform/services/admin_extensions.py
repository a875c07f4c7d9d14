"""Extension requests handled by administrators (spec/domain.md §3.5).

Accepting grants the new termination date (and cancels any scheduled expiry); refusing keeps it.
Either way the owner is emailed (CC the admin address) and the admins' badge changes
(``admin:extension_requests_changed``): :func:`handle` returns both for the caller to send after
the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import (
    Instance,
    InstanceExpiration,
    InstanceExtensionRequest,
    User,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceExtensionRequestState, InstanceState
from visa_platform.domain.errors import BadRequest, NotFound
from visa_platform.events.broker import Event, to_role
from visa_platform.events.instances import owner_of
from visa_platform.notifications import messages
from visa_platform.notifications.model import Notification
from visa_platform.services import instances
from visa_platform.services.admin_instances import parse_admin_date
from visa_platform.services.users import active_role_names


def changed_event() -> Event:
    return Event("admin:extension_requests_changed", to_role("ADMIN"))


async def pending_requests(session: AsyncSession) -> list[InstanceExtensionRequest]:
    """PENDING requests of instances that are not deleted, oldest first."""
    return list(
        await session.scalars(
            select(InstanceExtensionRequest)
            .join(Instance, Instance.id == InstanceExtensionRequest.instance_id)
            .where(
                InstanceExtensionRequest.state == InstanceExtensionRequestState.PENDING,
                Instance.state != InstanceState.DELETED,
                Instance.deleted_at.is_(None),
            )
            .order_by(InstanceExtensionRequest.id)
        )
    )


@dataclass(frozen=True)
class Decision:
    """``InstanceExtensionResponseInput`` (the handler is the calling administrator)."""

    accepted: bool
    handler_comments: str | None
    termination_date: str | None


async def handle(
    session: AsyncSession,
    request_id: int,
    handler_id: str,
    decision: Decision,
    settings: Any,
) -> tuple[InstanceExtensionRequest, Notification | None]:
    """Accept or refuse a PENDING request; flushes. Returns the request and the owner's email."""
    request = await session.get(InstanceExtensionRequest, request_id)
    if request is None:
        raise NotFound(f"Instance extension request with id {request_id} not found")
    if request.state is not InstanceExtensionRequestState.PENDING:
        raise BadRequest(f"this extension request has already been {request.state.value.lower()}")
    instance = (await instances.load(session, [request.instance_id]))[0]
    if instance.deleted_at is not None:
        raise BadRequest("the instance of this extension request is deleted")
    now = utcnow()
    if decision.accepted:
        if not decision.termination_date:
            raise BadRequest("a termination date (yyyy-MM-dd HH:mm) is needed to accept")
        termination = parse_admin_date(decision.termination_date)
        request.state = InstanceExtensionRequestState.ACCEPTED
        request.extension_date = termination
        instance.termination_date = termination
        instance.expiration_date = None
        await session.execute(
            delete(InstanceExpiration).where(InstanceExpiration.instance_id == instance.id)
        )
    else:
        request.state = InstanceExtensionRequestState.REFUSED
    request.handler_id = handler_id if await session.get(User, handler_id) is not None else None
    request.handled_on = now
    request.handler_comments = decision.handler_comments
    await session.flush()

    owner_id = owner_of(instance)
    owner = await session.get(User, owner_id) if owner_id is not None else None
    email = None
    if owner is not None:
        email = messages.extension_handled(
            messages.Person.of(owner, await active_role_names(session, owner.id, now)),
            messages.InstanceInfo(id=instance.id, uid=instance.uid, name=instance.name),
            accepted=decision.accepted,
            termination_date=instance.termination_date,
            handler_comments=decision.handler_comments,
            limits=messages.Limits.from_settings(settings),
        )
    return request, email
