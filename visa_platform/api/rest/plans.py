"""``/api/plans``: the image + flavour pairs the caller may create instances from (api.md §3.6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quart import Blueprint, request
from quart_schema import document_response

from visa_platform.api.auth import authenticated, require_user
from visa_platform.api.context import db, state
from visa_platform.api.rest import params
from visa_platform.api.rest.catalogue_dto import plan_dto
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import Envelope, PlanDto
from visa_platform.db.models import Plan
from visa_platform.domain.errors import NotFound
from visa_platform.domain.principal import Principal
from visa_platform.services import plans
from visa_platform.services.plans import FlavourAvailability

blueprint = Blueprint("plans", __name__)

ADMIN_ROLE = "ADMIN"

NOT_FORECAST = FlavourAvailability(available=True, available_at=None)
"""Capacity forecasting (domain.md §10.2) is not implemented: every flavour shows available."""


async def _dtos(caller: Principal, found: Sequence[Plan]) -> list[dict[str, Any]]:
    """PlanDtos with the caller's maximum lifetime per flavour (one query for all of them)."""
    flavour_ids = [p.flavour_id for p in found if p.flavour_id is not None]
    lifetimes = await plans.max_lifetimes_minutes(db(), flavour_ids, caller.roles, state().settings)
    return [plan_dto(p, lifetimes.get(p.flavour_id or 0), availability=NOT_FORECAST) for p in found]


@blueprint.get("/plans")
@document_response(Envelope[list[PlanDto]])
@authenticated
async def list_plans() -> dict[str, Any]:
    """Plans the caller may use, by flavour cpu then memory.

    ``flavour``: that flavour's visible plans (creation from a booking token). Otherwise an
    administrator gets every usable plan; others get the plans whose flavour limits let them in,
    for the comma-separated ``experiments`` if given (unknown ids are ignored).
    """
    caller = require_user()
    session = db()
    flavour_id = params.integer(request.args, "flavour")
    experiment_ids = request.args.get("experiments")
    if flavour_id is not None:
        found = await plans.visible_plans_for_flavour(session, flavour_id)
    elif caller.has_role(ADMIN_ROLE):
        found = await plans.admin_plans(session)
    elif experiment_ids is not None:
        ids = [i.strip() for i in experiment_ids.split(",") if i.strip()]
        found = await plans.plans_for_user_and_experiments(session, caller.user_id, ids)
    else:
        found = await plans.plans_for_user_and_all_instruments(session, caller.user_id)
    return envelope(await _dtos(caller, found))


@blueprint.get("/plans/<plan_id>")
@document_response(Envelope[PlanDto])
@authenticated
async def get_plan(plan_id: str) -> dict[str, Any]:
    """One usable plan (numeric id); hidden images and clouds are visible to administrators only."""
    caller = require_user()
    plan = await plans.catalogue_plan(
        db(), params.path_id(plan_id, "plan"), admin=caller.has_role(ADMIN_ROLE)
    )
    if plan is None:
        raise NotFound("plan not found")
    return envelope((await _dtos(caller, [plan]))[0])
