"""``/api/notifications``: system notifications, admin counters, acknowledgements."""

from __future__ import annotations

from typing import Any

from quart import Blueprint

from visa_platform.api.auth import authenticated, require_user
from visa_platform.api.context import db, principal, read_json
from visa_platform.api.rest import dto
from visa_platform.api.rest.envelope import envelope
from visa_platform.domain.errors import BadRequest
from visa_platform.domain.principal import PrincipalKind
from visa_platform.services import notifications

blueprint = Blueprint("notifications", __name__)


@blueprint.get("/notifications")
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
@authenticated
async def acknowledged() -> dict[str, Any]:
    """Ids of the notifications the caller dismissed."""
    return envelope(await notifications.acknowledged_ids(db(), require_user().user_id))


@blueprint.post("/notifications/acknowledged")
@authenticated
async def acknowledge() -> dict[str, Any]:
    """Dismiss a notification; the body is its id as a bare JSON number."""
    body = await read_json()
    if isinstance(body, bool) or not isinstance(body, int):
        raise BadRequest("the body must be a notification id (a JSON number)")
    session = db()
    result = await notifications.acknowledge(session, require_user().user_id, body)
    await session.commit()
    return envelope(result)
