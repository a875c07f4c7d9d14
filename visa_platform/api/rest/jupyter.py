"""``/api/jupyter/instances``: what visa-jupyter-proxy calls (spec/api.md §3.8)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from quart import Blueprint
from quart_schema import document_request, document_response
from sqlalchemy import select, update

from visa_platform.api.auth import authenticated
from visa_platform.api.context import db, parse_body
from visa_platform.api.rest.bodies import Body
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.instance_dto import instance_dto
from visa_platform.api.rest.instances import _instance_and_access
from visa_platform.api.rest.schemas import Envelope, InstanceDto
from visa_platform.db.models import InstanceJupyterSession
from visa_platform.db.types import utcnow
from visa_platform.domain.errors import NotFound
from visa_platform.services import authorization, instances, lifecycle

blueprint = Blueprint("jupyter", __name__)

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=150)]


class NotebookBody(Body):
    kernel_id: Identifier
    session_id: Identifier


@blueprint.get("/jupyter/instances/<reference>")
@document_response(Envelope[InstanceDto])
@authenticated
async def jupyter_instance(reference: str) -> dict[str, Any]:
    """The instance for its owner; counts as activity (and cancels an inactivity expiry)."""
    instance, access, _, user = await _instance_and_access(reference)
    if not access.is_owner:
        raise NotFound("instance not found")
    session = db()
    instance.last_seen_at = utcnow()
    await lifecycle.on_instance_activated(session, instance.id)
    await session.commit()
    return envelope(instance_dto(instance, access, user))


@blueprint.post("/jupyter/instances/<reference>/notebook/open")
@document_response(Envelope[None])
@authenticated
@document_request(NotebookBody)
async def notebook_open(reference: str) -> dict[str, Any]:
    body = await parse_body(NotebookBody)
    instance, access, caller, _ = await _instance_and_access(reference)
    authorization.require_authorised(access)
    session = db()
    session.add(
        InstanceJupyterSession(
            instance_id=instance.id,
            user_id=caller.user_id,
            kernel_id=body.kernel_id,
            session_id=body.session_id,
            active=True,
        )
    )
    await session.commit()
    return envelope(None)


@blueprint.post("/jupyter/instances/<reference>/notebook/close")
@document_response(Envelope[None])
@document_request(NotebookBody)
async def notebook_close(reference: str) -> dict[str, Any]:
    """Anonymous by design (the proxy cleans up sessions of closed browsers)."""
    body = await parse_body(NotebookBody)
    session = db()
    kind, value = instances.parse_reference(reference)
    from visa_platform.db.models import Instance

    column = Instance.id if kind == "id" else Instance.uid
    instance_id = await session.scalar(select(Instance.id).where(column == value))
    if instance_id is None:
        raise NotFound("instance not found")
    await session.execute(
        update(InstanceJupyterSession)
        .where(
            InstanceJupyterSession.instance_id == instance_id,
            InstanceJupyterSession.kernel_id == body.kernel_id,
            InstanceJupyterSession.session_id == body.session_id,
            InstanceJupyterSession.active,
        )
        .values(active=False, updated_at=utcnow())
    )
    await session.commit()
    return envelope(None)
