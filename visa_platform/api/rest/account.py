"""``/api/account``: the caller's own user, quotas and event-gateway tickets."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_response

from visa_platform.api.auth import authenticated, require_user
from visa_platform.api.context import db
from visa_platform.api.rest import dto
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import Envelope, QuotaDto, TokenDto, UserDto
from visa_platform.db.models import User
from visa_platform.services import quotas, tokens, users

blueprint = Blueprint("account", __name__)


@blueprint.get("/account")
@document_response(Envelope[UserDto])
@authenticated
async def account() -> dict[str, Any]:
    """The caller as a UserDto with active roles and groups (works for the invalid account)."""
    caller = require_user()
    session = db()
    user = await users.get_user(session, caller.user_id)
    if user is None:  # the invalid account "0" is never stored
        transient = User(id=caller.user_id, first_name=None, last_name="", email=None)
        return envelope(dto.user_dto(transient))
    return envelope(
        dto.user_dto(
            user,
            await users.active_roles(session, user.id),
            await users.group_names(session, user.id),
            user.affiliation,
        )
    )


@blueprint.get("/account/quotas")
@document_response(Envelope[QuotaDto])
@authenticated
async def account_quotas() -> dict[str, Any]:
    """How many instances the caller owns and may still create."""
    return envelope(dto.quota_dto(await quotas.quota_of(db(), require_user().user_id)))


@blueprint.post("/account/clients/<client_id>/auth/token")
@document_response(Envelope[TokenDto], 201)
@authenticated
async def client_token(client_id: str) -> tuple[dict[str, Any], int]:
    """A 15-second single-use ticket to open the event gateway websocket (HTTP 201)."""
    caller = require_user()
    session = db()
    token = await tokens.create_client_token(session, caller.user_id, client_id)
    await session.commit()
    return envelope({"token": token}), 201
