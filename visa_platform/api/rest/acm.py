"""``/api/acm``: machine-to-machine endpoints (application and instance credentials)."""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Blueprint
from quart_schema import document_response

from visa_platform.api.auth import roles_allowed
from visa_platform.api.context import db, principal, state
from visa_platform.api.rest.schemas import AcmHealthDto, Envelope, InstanceDto
from visa_platform.db.engine import ping

blueprint = Blueprint("acm", __name__)


@blueprint.get("/acm/health")
@document_response(Envelope[AcmHealthDto])
@roles_allowed("APPLICATION_CREDENTIAL")
async def health() -> dict[str, Any]:
    """HealthReport for monitoring: database reachability.

    ``cloudState`` reports OK until compute backends can be probed (they arrive with the compute
    backend contract); its message says so.
    """
    database: dict[str, Any] = {"status": "OK", "message": None}
    try:
        engine = state().engine
        if engine is None:
            raise RuntimeError("not serving")
        await asyncio.wait_for(ping(engine), 5.0)
    except Exception:
        database = {"status": "NOT_OK", "message": "database unreachable"}
    cloud = {"status": "OK", "message": "no compute backend probe configured"}
    overall = "OK" if database["status"] == "OK" else "NOT_OK"
    return {
        "data": {
            "globalState": {"status": overall, "message": None},
            "cloudState": cloud,
            "databaseState": database,
        }
    }


@blueprint.get("/acm/instances/<instance_id>")
@document_response(Envelope[InstanceDto])
@roles_allowed("INSTANCE_CREDENTIAL")
async def own_instance(instance_id: str) -> dict[str, Any]:
    """An instance's own description, members removed; only for the instance itself."""
    from visa_platform.api.rest.instance_dto import instance_dto
    from visa_platform.domain.enums import InstanceMemberRole
    from visa_platform.domain.errors import NotAuthorized, NotFound
    from visa_platform.services import instances
    from visa_platform.services.authorization import Access

    caller = principal()
    if not instance_id.isdigit():
        raise NotFound("instance not found")
    instance = await instances.find(db(), instance_id)
    if caller is None or caller.user_id != str(instance.id):
        raise NotAuthorized("an instance may only read itself")
    nobody = Access(None, False, False, False, False, InstanceMemberRole.NONE)
    body = instance_dto(instance, nobody, None)
    body["members"] = []
    return {"data": body}
