"""Instance thumbnails: upload by the owner, download with a placeholder (spec/api.md §3.4, §3.7).

Unlike the original, which answered 200 to every upload, a bad upload gets a 4xx saying why,
and so does a caller with no business uploading. Support staff's pages upload too (visa-web does
it from the support view, spec §1.12); as in VISA, theirs are answered ``{"data": null}`` and
ignored.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request
from quart_schema import DataSource, document_request, document_response

from visa_platform.api.auth import authenticated, roles_allowed
from visa_platform.api.context import db, state
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.instances import caller_context
from visa_platform.api.rest.schemas import Envelope, Jpeg, ThumbnailUpload
from visa_platform.domain.errors import BadRequest
from visa_platform.events.broker import Event, to_users
from visa_platform.events.instances import owner_of
from visa_platform.services import authorization, instances, thumbnails

blueprint = Blueprint("thumbnails", __name__)


def jpeg(data: bytes) -> Response:
    return Response(data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


@blueprint.post("/account/instances/<uid>/thumbnail")
@document_request(ThumbnailUpload, source=DataSource.FORM_MULTIPART)
@document_response(Envelope[None])
@authenticated
async def upload(uid: str) -> dict[str, Any]:
    """Store the JPEG in the multipart part ``file``; owner or admin (support: ignored)."""
    caller, _ = await caller_context()
    session = db()
    instance = await instances.find(session, uid, uid_only=True)
    access = await instances.access_to(session, caller, instance)
    if access.is_support and not access.is_owner_or_admin:
        return envelope(None)
    authorization.require_owner_or_admin(access)
    files = await request.files
    part = files.get("file")
    if part is None:
        raise BadRequest("the multipart part 'file' is missing")
    await thumbnails.store(session, instance, part.read(thumbnails.MAX_BYTES + 1))
    await session.commit()
    owner = owner_of(instance)
    if owner is not None:
        await state().broker.publish(
            Event(
                "user:instance_thumbnail_updated",
                to_users(owner),
                {"instanceId": instance.id, "instanceUid": instance.uid},
            )
        )
    return envelope(None)


@blueprint.get("/account/instances/<uid>/thumbnail")
@document_response(Jpeg)
@authenticated
async def download(uid: str) -> Response:
    """The thumbnail for its owner or an admin; the placeholder for everyone else."""
    caller, _ = await caller_context()
    session = db()
    instance = await instances.find(session, uid, uid_only=True)
    access = await instances.access_to(session, caller, instance)
    data = await thumbnails.load(session, instance) if access.is_owner_or_admin else None
    return jpeg(data if data is not None else thumbnails.placeholder())


@blueprint.get("/instances/<reference>/thumbnail")
@document_response(Jpeg)
@roles_allowed("ADMIN")
async def admin_download(reference: str) -> Response:
    """Any instance's thumbnail, for the admin pages (placeholder when there is none)."""
    session = db()
    instance = await instances.find(session, reference)
    data = await thumbnails.load(session, instance)
    return jpeg(data if data is not None else thumbnails.placeholder())
