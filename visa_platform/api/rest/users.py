"""``/api/account/users``: people to share an instance with, support staff, one user's profile."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, request
from quart_schema import document_response

from visa_platform.api.auth import authenticated, roles_allowed
from visa_platform.api.context import db
from visa_platform.api.rest import dto
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import Envelope, UserDto
from visa_platform.domain.errors import NotFound
from visa_platform.services import directory
from visa_platform.services.directory import UserProfile

blueprint = Blueprint("users", __name__)

PROFILE_ROLES = ("ADMIN", "INSTRUMENT_CONTROL", "INSTRUMENT_SCIENTIST", "IT_SUPPORT", "STAFF")
"""Who may look a user up by id (the support page's owner filter)."""


def _with_roles(found: UserProfile) -> dict[str, Any]:
    return dto.user_dto(found.user, found.roles, found.groups, found.user.affiliation)


@blueprint.get("/account/users/_search")
@document_response(Envelope[list[UserDto]])
@authenticated
async def search_users() -> dict[str, Any]:
    """Up to 250 activated users whose last name starts with ``name`` (none for an empty name)."""
    found = await directory.search_by_last_name(db(), request.args.get("name") or "")
    return envelope([dto.user_dto(u, affiliation=u.affiliation) for u in found])


@blueprint.get("/account/users/support")
@document_response(Envelope[list[UserDto]])
@authenticated
async def support_users() -> dict[str, Any]:
    """Support staff (instrument scientists and control, IT support, scientific computing)."""
    return envelope([_with_roles(p) for p in await directory.support_users(db())])


@blueprint.get("/account/users/<user_id>")
@document_response(Envelope[UserDto])
@roles_allowed(*PROFILE_ROLES)
async def get_user(user_id: str) -> dict[str, Any]:
    """One user with roles and groups; the id must be digits (else 404, as VISA)."""
    if not user_id.isascii() or not user_id.isdigit():
        raise NotFound("user not found")
    found = await directory.profile(db(), user_id)
    if found is None:
        raise NotFound("user not found")
    return envelope(_with_roles(found))
