"""``/api/notifications``: system notifications, admin counters, acknowledgements."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_request, document_response

from visa_platform.api.auth import authenticated, require_user
from visa_platform.api.context import db, principal, read_json
from visa_platform.api.rest import dto, params
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import Envelope, NotificationId, NotificationsDto
from visa_platform.domain.errors import BadRequest, NotFound
from visa_platform.domain.principal import PrincipalKind
from visa_platform.services import notifications

blueprint = Blueprint("notifications", __name__)


@blueprint.get("/notifications")
@document_response(Envelope[NotificationsDto])
async def list_notifications() -> dict[str, Any]:
    """Active system notifications; admin counters too when the caller is an administrator."""
    session = db()
    caller = principal()
    admin = None
    if caller is not None and caller.kind is PrincipalKind.USER and caller.has_role("ADMIN"):
        admin = [dto.admin_counter_dto(c) for c in await notifications.admin_counters(session)]
    return envelope(
        {
            "systemNotifications": [
                dto.system_notification_dto(n)
                for n in await notifications.active_notifications(session)
            ],
            "adminNotifications": admin,
        }
    )


@blueprint.get("/notifications/acknowledged")
@document_response(Envelope[list[int]])
@authenticated
async def acknowledged() -> dict[str, Any]:
    """Ids of the notifications the caller dismissed."""
    return envelope(await notifications.acknowledged_ids(db(), require_user().user_id))


@blueprint.post("/notifications/acknowledged")
@document_request(NotificationId)
@document_response(Envelope[int])
@authenticated
async def acknowledge() -> dict[str, Any]:
    """Dismiss a notification; the body is its id as a bare JSON number."""
    body = await read_json()
    if isinstance(body, bool) or not isinstance(body, int):
        raise BadRequest("the body must be a notification id (a JSON number)")
    if not 0 < body <= params.MAX_ID:
        raise NotFound("notification not found")
    session = db()
    result = await notifications.acknowledge(session, require_user().user_id, body)
    await session.commit()
    return envelope(result)
