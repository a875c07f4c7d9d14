"""``/api/account/instances``: a user's instances, their members and actions (spec/api.md §3.4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from quart import Blueprint, request
from quart_schema import document_request, document_response
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.api.auth import authenticated, require_user
from visa_platform.api.context import db, parse_body, state
from visa_platform.api.rest.bodies import Body, Long
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.instance_dto import (
    command_dto,
    instance_dto,
    invitation_dto,
    member_dto,
    state_dto,
)
from visa_platform.api.rest.schemas import (
    Envelope,
    InstanceCommandDto,
    InstanceDto,
    InstanceStateDto,
    InvitationDto,
    MemberDto,
    TokenDto,
)
from visa_platform.db.models import Instance, User
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceCommandType, InstanceMemberRole
from visa_platform.domain.errors import BadRequest, NotAuthorized, NotFound
from visa_platform.events import instances as instance_events
from visa_platform.plugin.types import InstanceEvent
from visa_platform.services import authorization, instances, members, sharing, users
from visa_platform.services.authorization import Access, Caller

blueprint = Blueprint("instances", __name__)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]
Comments = Annotated[str, StringConstraints(max_length=2500)]
ScreenSize = Annotated[int, Field(ge=1, le=16384)]


class CreationBody(Body):
    """InstanceCreatorDto."""

    name: Name
    comments: Comments | None = None
    plan_id: Long
    lifetime_minutes: Long | None = None
    screen_width: ScreenSize
    screen_height: ScreenSize
    accepted_terms: bool
    experiments: list[Annotated[str, StringConstraints(max_length=32)]] | None = None
    keyboard_layout: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    vdi_protocol_id: Long | None = None
    booking_token_id: Long | None = None


class UpdateBody(Body):
    """InstanceUpdatorDto."""

    name: Name
    comments: Comments | None = None
    screen_width: ScreenSize
    screen_height: ScreenSize
    keyboard_layout: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    unrestricted_access: bool
    vdi_protocol_id: Long


class MemberBody(Body):
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    role: InstanceMemberRole


class RoleBody(Body):
    role: InstanceMemberRole


async def caller_context() -> tuple[Caller, User | None]:
    """The calling user's predicates context and their user row (with affiliation)."""
    principal = require_user()
    session = db()
    caller = await authorization.caller_for(session, principal)
    return caller, await users.get_user(session, principal.user_id)


async def _instance_and_access(reference: str) -> tuple[Instance, Access, Caller, User | None]:
    caller, user = await caller_context()
    instance = await instances.find(db(), reference)
    return instance, await instances.access_to(db(), caller, instance), caller, user


async def _publish_state(instance: Instance) -> None:
    event = instance_events.state_changed(instance)
    if event is not None:
        await state().broker.publish(event)


def _event(instance: Instance, actor: str) -> InstanceEvent:
    owner = next((m.user_id for m in instance.members if m.role is InstanceMemberRole.OWNER), None)
    return InstanceEvent(
        instance_id=instance.id,
        uid=instance.uid,
        name=instance.name,
        state=instance.state.name,
        owner_id=owner,
        plan_id=instance.plan_id,
        compute_id=instance.compute_id,
        occurred_at=utcnow(),
        actor_id=actor,
    )


@blueprint.get("/account/instances")
@document_response(Envelope[list[InstanceDto]])
@authenticated
async def list_instances() -> dict[str, Any]:
    """Every instance the caller is a member of, newest first."""
    caller, user = await caller_context()
    session = db()
    loaded = await instances.member_instances(session, caller.user_id)
    facts = await instances.facts(session, loaded)
    now = utcnow()
    return envelope(
        [instance_dto(i, authorization.access(caller, facts[i.id], now), user) for i in loaded]
    )


@blueprint.get("/account/instances/_count")
@document_response(Envelope[int])
@authenticated
async def count_instances() -> dict[str, Any]:
    return envelope(await instances.count_member_instances(db(), require_user().user_id))


@blueprint.post("/account/instances")
@document_response(Envelope[InstanceDto])
@authenticated
@document_request(CreationBody)
async def create_instance() -> dict[str, Any]:
    """Create an instance (HTTP 200, as the original); the lifecycle engine builds it."""
    body = await parse_body(CreationBody)
    if not body.accepted_terms:
        raise BadRequest("the terms of use must be accepted")
    principal = require_user()
    caller, user = await caller_context()
    session = db()
    created = await instances.create(
        session,
        principal,
        caller,
        instances.Creation(
            name=body.name,
            comments=body.comments,
            plan_id=body.plan_id,
            lifetime_minutes=body.lifetime_minutes,
            screen_width=body.screen_width,
            screen_height=body.screen_height,
            experiment_ids=tuple(body.experiments or ()),
            keyboard_layout=body.keyboard_layout,
            vdi_protocol_id=body.vdi_protocol_id,
            booking_token_id=body.booking_token_id,
        ),
        state().settings,
    )
    await session.commit()
    instance = (await instances.load(session, [created.id]))[0]
    await state().plugins.instance_created(_event(instance, caller.user_id))
    await state().broker.publish(instance_events.instances_changed(caller.user_id))
    return envelope(
        instance_dto(instance, await instances.access_to(session, caller, instance), user)
    )


@blueprint.get("/account/instances/<reference>")
@document_response(Envelope[InstanceDto])
@authenticated
async def get_instance(reference: str) -> dict[str, Any]:
    """An instance the caller may see; ``access_token`` accepts an invitation (the caller joins)
    or shows the instance through its public link (spec/api.md §3.4 resolution order)."""
    instance, access, caller, user = await _instance_and_access(reference)
    token = request.args.get("access_token")
    session = db()
    if token and await sharing.accept_invitation(session, instance, caller.user_id, token):
        await session.commit()
        instance = (await instances.load(session, [instance.id]))[0]
        return envelope(
            instance_dto(instance, await instances.access_to(session, caller, instance), user)
        )
    if access.is_authorised:
        return envelope(instance_dto(instance, access, user))
    if (
        token
        and state().settings.instance_public_access_token_enabled
        and instance.public_access_token is not None
        and instance.public_access_role is not None
        and token == instance.public_access_token
    ):
        return envelope(
            instance_dto(instance, access, user, public_role=instance.public_access_role)
        )
    raise NotFound("instance not found")


@blueprint.get("/account/instances/<reference>/state")
@document_response(Envelope[InstanceStateDto])
@authenticated
async def get_state(reference: str) -> dict[str, Any]:
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_authorised(access)
    return envelope(state_dto(instance))


@blueprint.put("/account/instances/<reference>")
@document_response(Envelope[InstanceDto])
@authenticated
@document_request(UpdateBody)
async def update_instance(reference: str) -> dict[str, Any]:
    body = await parse_body(UpdateBody)
    instance, access, caller, user = await _instance_and_access(reference)
    authorization.require_owner_or_admin(access)
    session = db()
    await instances.update(
        session,
        instance,
        instances.Update(
            name=body.name,
            comments=body.comments,
            screen_width=body.screen_width,
            screen_height=body.screen_height,
            keyboard_layout=body.keyboard_layout,
            unrestricted_access=body.unrestricted_access,
            vdi_protocol_id=body.vdi_protocol_id,
        ),
        state().settings,
    )
    await session.commit()
    await _publish_state(instance)
    return envelope(
        instance_dto(instance, await instances.access_to(session, caller, instance), user)
    )


@blueprint.delete("/account/instances/<reference>")
@document_response(Envelope[InstanceDto])
@authenticated
async def delete_instance(reference: str) -> dict[str, Any]:
    """Delete (or stop, then delete) an instance; owner or admin (checked first, unlike VISA)."""
    instance, access, caller, user = await _instance_and_access(reference)
    authorization.require_owner_or_admin(access)
    session = db()
    await instances.delete(session, instance, caller.user_id)
    await session.commit()
    await _publish_state(instance)
    return envelope(instance_dto(instance, access, user))


ACTIONS = {
    "start": InstanceCommandType.START,
    "shutdown": InstanceCommandType.SHUTDOWN,
    "reboot": InstanceCommandType.REBOOT,
}


@blueprint.post("/account/instances/<reference>/actions/<action>")
@document_response(Envelope[InstanceDto])
@authenticated
async def instance_action(reference: str, action: str) -> dict[str, Any]:
    """Queue start, shutdown or reboot (no body)."""
    if action not in ACTIONS:
        raise BadRequest(f"unknown action {action!r}: use start, shutdown or reboot")
    instance, access, caller, user = await _instance_and_access(reference)
    authorization.require_owner_or_admin(access)
    session = db()
    previous = instance.state.name
    await instances.act(session, instance, caller.user_id, ACTIONS[action])
    await session.commit()
    await state().plugins.instance_state_changed(_event(instance, caller.user_id), previous)
    await _publish_state(instance)
    return envelope(instance_dto(instance, access, user))


@blueprint.get("/account/instances/<reference>/history")
@document_response(Envelope[list[InstanceCommandDto]])
@authenticated
async def instance_history(reference: str) -> dict[str, Any]:
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_owner_or_admin(access)
    return envelope([command_dto(c) for c in await instances.history(db(), instance)])


@blueprint.get("/account/instances/<reference>/members")
@document_response(Envelope[list[MemberDto]])
@authenticated
async def list_members(reference: str) -> dict[str, Any]:
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_authorised(access)
    return envelope([member_dto(m) for m in members.sorted_members(list(instance.members))])


@blueprint.post("/account/instances/<reference>/members")
@document_response(Envelope[MemberDto])
@authenticated
@document_request(MemberBody)
async def add_member(reference: str) -> dict[str, Any]:
    body = await parse_body(MemberBody)
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_owner_or_admin(access)
    session = db()
    member = await members.add(session, instance, body.user_id, body.role)
    email = await members.member_added_email(session, instance, member, state().settings)
    await session.commit()
    state().notifications.notify(email)
    return envelope(member_dto(member))


@blueprint.put("/account/instances/<reference>/members/<member_id>")
@document_response(Envelope[MemberDto])
@authenticated
@document_request(RoleBody)
async def update_member(reference: str, member_id: str) -> dict[str, Any]:
    body = await parse_body(RoleBody)
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_owner_or_admin(access)
    member = members.member_of(instance, member_id)
    session = db()
    await members.change_role(session, member, body.role)
    await session.commit()
    return envelope(member_dto(member))


@blueprint.delete("/account/instances/<reference>/members/<member_id>")
@document_response(Envelope[None])
@authenticated
async def remove_member(reference: str, member_id: str) -> dict[str, Any]:
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_owner_or_admin(access)
    member = members.member_of(instance, member_id)
    session = db()
    await members.remove(session, instance, member)
    await session.commit()
    return envelope(None)


# -- sharing -------------------------------------------------------------------------------


class InvitationBody(Body):
    id: Long | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]
    role: InstanceMemberRole


@blueprint.post("/account/instances/<uid>/auth/token")
@document_response(Envelope[TokenDto], 201)
@authenticated
async def desktop_ticket(uid: str) -> tuple[dict[str, Any], int]:
    """A 15-second single-use ticket for the remote desktop (HTTP 201)."""
    caller, _ = await caller_context()
    session = db()
    instance = await instances.find(session, uid, uid_only=True)
    access = await instances.access_to(session, caller, instance)
    token = await sharing.desktop_ticket(session, instance, caller.user_id, access)
    await session.commit()
    return envelope({"token": token}), 201


@blueprint.post("/account/instances/<uid>/auth/token/<public_token>")
@document_response(Envelope[TokenDto], 201)
@authenticated
async def public_desktop_ticket(uid: str, public_token: str) -> tuple[dict[str, Any], int]:
    """A desktop ticket through the instance's public link (HTTP 201)."""
    if not state().settings.instance_public_access_token_enabled:
        raise NotAuthorized("public access links are disabled")
    caller, _ = await caller_context()
    session = db()
    instance = await instances.find(session, uid, uid_only=True)
    access = await instances.access_to(session, caller, instance)
    token = await sharing.desktop_ticket(session, instance, caller.user_id, access, public_token)
    await session.commit()
    return envelope({"token": token}), 201


async def _owned(reference: str) -> tuple[Instance, Access, User | None]:
    instance, access, _, user = await _instance_and_access(reference)
    authorization.require_owner(access)
    return instance, access, user


async def _change_owned(
    reference: str, change: Callable[[AsyncSession, Instance], Awaitable[object]]
) -> dict[str, Any]:
    """Apply ``change`` to the caller's own instance, commit, answer the InstanceDto."""
    instance, access, user = await _owned(reference)
    session = db()
    await change(session, instance)
    await session.commit()
    return envelope(instance_dto(instance, access, user))


@blueprint.post("/account/instances/<reference>/public_access_token")
@document_response(Envelope[InstanceDto])
@authenticated
@document_request(RoleBody)
async def create_public_link(reference: str) -> dict[str, Any]:
    role = (await parse_body(RoleBody)).role
    return await _change_owned(
        reference, lambda session, instance: sharing.create_public_link(session, instance, role)
    )


@blueprint.put("/account/instances/<reference>/public_access_token")
@document_response(Envelope[InstanceDto])
@authenticated
@document_request(RoleBody)
async def change_public_link(reference: str) -> dict[str, Any]:
    role = (await parse_body(RoleBody)).role
    return await _change_owned(
        reference, lambda session, instance: sharing.change_public_link(session, instance, role)
    )


@blueprint.delete("/account/instances/<reference>/public_access_token")
@document_response(Envelope[InstanceDto])
@authenticated
async def remove_public_link(reference: str) -> dict[str, Any]:
    return await _change_owned(reference, sharing.remove_public_link)


@blueprint.get("/account/instances/<reference>/personal_access_tokens")
@document_response(Envelope[list[InvitationDto]])
@authenticated
async def list_invitations(reference: str) -> dict[str, Any]:
    instance, _, _ = await _owned(reference)
    found = await sharing.open_invitations(db(), instance)
    return envelope([invitation_dto(i, instance) for i in found])


@blueprint.post("/account/instances/<reference>/personal_access_tokens")
@document_response(Envelope[InvitationDto])
@authenticated
@document_request(InvitationBody)
async def create_invitation(reference: str) -> dict[str, Any]:
    body = await parse_body(InvitationBody)
    instance, _, _ = await _owned(reference)
    session = db()
    invitation = await sharing.create_invitation(session, instance, body.name, body.role)
    await session.commit()
    return envelope(invitation_dto(invitation, instance))


@blueprint.put("/account/instances/<reference>/personal_access_tokens/<token_id>")
@document_response(Envelope[InvitationDto])
@authenticated
@document_request(InvitationBody)
async def update_invitation(reference: str, token_id: str) -> dict[str, Any]:
    body = await parse_body(InvitationBody)
    if body.id is None or str(body.id) != token_id:
        raise BadRequest("the body's id must be the token id of the path")
    instance, _, _ = await _owned(reference)
    session = db()
    invitation = await sharing.open_invitation(session, instance, token_id)
    await sharing.update_invitation(session, invitation, body.name, body.role)
    await session.commit()
    return envelope(invitation_dto(invitation, instance))


@blueprint.delete("/account/instances/<reference>/personal_access_tokens/<token_id>")
@document_response(Envelope[bool])
@authenticated
async def delete_invitation(reference: str, token_id: str) -> dict[str, Any]:
    instance, _, _ = await _owned(reference)
    session = db()
    await sharing.delete_invitation(
        session, await sharing.open_invitation(session, instance, token_id)
    )
    await session.commit()
    return envelope(True)
