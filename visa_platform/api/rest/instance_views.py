"""More of ``/api/account/instances``: experiment team, connected users, extension requests and
the support listing (spec/api.md §3.4)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from quart import Blueprint, request
from quart_schema import document_request, document_response
from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from visa_platform.api.auth import authenticated
from visa_platform.api.context import db, parse_body, state
from visa_platform.api.rest import params
from visa_platform.api.rest.bodies import Body
from visa_platform.api.rest.dto import user_dto
from visa_platform.api.rest.envelope import Page, envelope
from visa_platform.api.rest.instance_dto import instance_dto
from visa_platform.api.rest.instances import _instance_and_access, caller_context
from visa_platform.api.rest.schemas import (
    Envelope,
    ExtensionDto,
    InstanceDto,
    Paged,
    SessionMemberDto,
    UserDto,
)
from visa_platform.db.models import (
    Experiment,
    Instance,
    InstanceExtensionRequest,
    InstanceMember,
    InstanceSession,
    InstanceSessionMember,
    User,
)
from visa_platform.db.models.facility import experiment_user
from visa_platform.db.models.instances import instance_experiment
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.domain.errors import BadRequest, NotAuthorized
from visa_platform.events.broker import Event, to_role
from visa_platform.services import authorization, extensions, instances, users
from visa_platform.services.authorization import INSTRUMENT_CONTROL_WINDOW

blueprint = Blueprint("instance_views", __name__)


@blueprint.get("/account/instances/<reference>/experiments/team")
@document_response(Envelope[list[UserDto]])
@authenticated
async def experiment_team(reference: str) -> dict[str, Any]:
    """Users on the instance's experiments, by last name (empty for outsiders in open data)."""
    instance, access, caller, _ = await _instance_and_access(reference)
    authorization.require_authorised(access)
    session = db()
    ids = [e.id for e in instance.experiments]
    if not ids:
        return envelope([])
    team = (
        await session.scalars(
            select(User)
            .options(selectinload(User.affiliation))
            .join(experiment_user, experiment_user.c.user_id == User.id)
            .where(experiment_user.c.experiment_id.in_(ids))
            .distinct()
        )
    ).all()
    if state().settings.client_config_include_open_data and all(
        u.id != caller.user_id for u in team
    ):
        return envelope([])
    ordered = sorted(team, key=lambda u: ((u.last_name or "").lower(), u.id))
    return envelope([user_dto(u, affiliation=u.affiliation) for u in ordered])


@blueprint.get("/account/instances/<reference>/sessions/active/members")
@document_response(Envelope[list[SessionMemberDto]])
@authenticated
async def active_session_members(reference: str) -> dict[str, Any]:
    """Who is connected to the instance's remote desktop now."""
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_authorised(access)
    rows = (
        await db().scalars(
            select(InstanceSessionMember)
            .join(InstanceSession, InstanceSession.id == InstanceSessionMember.instance_session_id)
            .options(
                selectinload(InstanceSessionMember.user).selectinload(User.affiliation),
                selectinload(InstanceSessionMember.instance_session),
            )
            .where(InstanceSession.instance_id == instance.id, InstanceSessionMember.active)
            .order_by(InstanceSessionMember.id)
        )
    ).all()
    return envelope(
        [
            {
                "id": m.id,
                "createdAt": m.created_at,
                "instanceSession": {
                    "id": m.instance_session.id,
                    "connectionId": m.instance_session.connection_id,
                    "instanceId": instance.id,
                    "current": m.instance_session.current,
                    "protocol": (m.instance_session.protocol or "guacamole").upper(),
                },
                "sessionId": m.session_id,
                "user": user_dto(m.user, affiliation=m.user.affiliation),
                "role": m.role,
                "active": m.active,
            }
            for m in rows
        ]
    )


def extension_dto(extension: InstanceExtensionRequest) -> dict[str, Any]:
    return {"id": extension.id, "comments": extension.comments, "createdAt": extension.created_at}


class ExtensionBody(Body):
    comments: Annotated[str, StringConstraints(max_length=4000)] | None = None


@blueprint.get("/account/instances/<reference>/extension")
@document_response(Envelope[ExtensionDto | None])
@authenticated
async def get_extension(reference: str) -> dict[str, Any]:
    instance, access, _, _ = await _instance_and_access(reference)
    authorization.require_authorised(access, status="401")
    found = await extensions.pending(db(), instance)
    return envelope(extension_dto(found) if found is not None else None)


@blueprint.post("/account/instances/<reference>/extension")
@document_response(Envelope[ExtensionDto])
@authenticated
@document_request(ExtensionBody)
async def request_extension(reference: str) -> dict[str, Any]:
    """Ask for a longer lifetime; the image may accept it at once."""
    body = await parse_body(ExtensionBody)
    instance, access, _, _ = await _instance_and_access(reference)
    if not access.is_owner_or_admin:
        raise NotAuthorized("only the owner of the instance may do this")
    session = db()
    owner = next(m.user_id for m in instance.members if m.role is InstanceMemberRole.OWNER)
    roles = await users.active_role_names(session, owner)
    extension, created = await extensions.request_extension(
        session, instance, body.comments, roles, state().settings
    )
    emails = (
        extensions.request_emails(instance, extension, roles, state().settings) if created else []
    )
    await session.commit()
    for email in emails:
        state().notifications.notify(email)
    if created:
        await state().broker.publish(Event("admin:extension_requests_changed", to_role("ADMIN")))
    return envelope(extension_dto(extension))


SUPPORT_ORDER = {
    "id": Instance.id,
    "name": Instance.name,
    "state": Instance.state,
    "createdAt": Instance.created_at,
    "terminationDate": Instance.termination_date,
}


@blueprint.get("/account/instances/support")
@document_response(Paged[InstanceDto])
@authenticated
async def support_instances() -> dict[str, Any]:
    """Instances a support user may help with, paged, by the first of their support roles."""
    caller, user = await caller_context()
    args = request.args
    paging = params.paging(args, "getSupportInstances")
    order = args.get("orderBy", "id")
    if order not in SUPPORT_ORDER:
        raise BadRequest(f"orderBy must be one of {', '.join(SUPPORT_ORDER)}")
    column = SUPPORT_ORDER[order]
    now = utcnow()
    query = select(Instance.id).where(Instance.deleted_at.is_(None))
    experiments = select(instance_experiment.c.instance_id).join(
        Experiment, Experiment.id == instance_experiment.c.experiment_id
    )
    if "INSTRUMENT_CONTROL" in caller.roles:
        query = query.where(
            Instance.id.in_(
                experiments.where(
                    and_(
                        Experiment.start_date <= now + INSTRUMENT_CONTROL_WINDOW,
                        Experiment.end_date >= now - INSTRUMENT_CONTROL_WINDOW,
                    )
                )
            )
        )
    elif "IT_SUPPORT" in caller.roles:
        pass
    elif "INSTRUMENT_SCIENTIST" in caller.roles:
        query = query.where(
            Instance.id.in_(
                experiments.where(Experiment.instrument_id.in_(caller.scientist_instrument_ids))
            )
        )
    else:
        return envelope([], page=Page(0, paging.page, paging.limit))
    ids = [int(v) for v in args.getlist("id") if v.isdigit()]
    if ids:
        query = query.where(Instance.id.in_(ids))
    name_like = args.get("nameLike")
    if name_like:
        escaped = name_like.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Instance.name).like(escaped.lower() + "%", escape="\\"))
    instrument = params.integer(args, "instrumentId")
    if instrument is not None:
        query = query.where(
            Instance.id.in_(experiments.where(Experiment.instrument_id == instrument))
        )
    owner = args.get("ownerId")
    if owner:
        query = query.where(
            Instance.id.in_(
                select(InstanceMember.instance_id).where(
                    InstanceMember.user_id == owner,
                    InstanceMember.role == InstanceMemberRole.OWNER,
                )
            )
        )
    session = db()
    count = await session.scalar(select(func.count()).select_from(query.subquery()))
    direction = column.desc() if params.boolean(args, "descending") else column.asc()
    page_ids = list(
        await session.scalars(
            query.order_by(direction, Instance.id)
            .offset((paging.page - 1) * paging.limit)
            .limit(paging.limit)
        )
    )
    loaded = await instances.load(session, page_ids, refresh=False)
    facts = await instances.facts(session, loaded)
    return envelope(
        [instance_dto(i, authorization.access(caller, facts[i.id], now), user) for i in loaded],
        page=Page(int(count or 0), paging.page, paging.limit),
    )
