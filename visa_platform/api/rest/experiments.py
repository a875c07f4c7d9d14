"""``/api/account/experiments``: the caller's experiments, for the instance creation wizard."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, request
from quart_schema import document_response

from visa_platform.api.auth import authenticated, require_user
from visa_platform.api.context import db, state
from visa_platform.api.rest import params
from visa_platform.api.rest.catalogue_dto import experiment_dto, instrument_dto
from visa_platform.api.rest.envelope import Page, envelope
from visa_platform.api.rest.schemas import Envelope, ExperimentDto, InstrumentDto, PagedWithErrors
from visa_platform.services import experiments
from visa_platform.services.experiments import ExperimentFilter

blueprint = Blueprint("experiments", __name__)


def _criteria() -> ExperimentFilter:
    """The filter query parameters; open data only when both asked for and enabled."""
    args = request.args
    include_open_data = (
        params.boolean(args, "includeOpenData") and state().settings.client_config_include_open_data
    )
    return ExperimentFilter(
        instrument_id=params.integer(args, "instrumentId"),
        start_date=params.day(args, "startDate"),
        end_date=params.day(args, "endDate"),
        proposals=params.repeated(args, "proposal", legacy="proposals"),
        proposal_like=args.get("proposalLike") or None,
        dois=params.repeated(args, "doi", legacy="dois"),
        include_open_data=include_open_data,
    )


@blueprint.get("/account/experiments")
@document_response(PagedWithErrors[ExperimentDto])
@authenticated
async def list_experiments() -> dict[str, Any]:
    """A page of the caller's experiments, with ``_metadata`` and the identifiers not found.

    ``errors`` is always present: it names requested proposals and DOIs absent from this page.
    """
    criteria = _criteria()
    paging = params.paging(request.args, "experiments")
    found = await experiments.user_experiments(
        db(),
        require_user().user_id,
        criteria,
        page=paging.page,
        limit=paging.limit,
        order_by=request.args.get("orderBy") or None,
        descending=params.boolean(request.args, "descending"),
    )
    errors = []
    if found.missing_proposals:
        errors.append(
            "Could not obtain experiments for the following proposal(s): "
            + ", ".join(found.missing_proposals)
        )
    if found.missing_dois:
        errors.append(
            "Could not obtain experiments for the following doi(s): "
            + ", ".join(found.missing_dois)
        )
    return envelope(
        [experiment_dto(e) for e in found.experiments],
        page=Page(found.count, paging.page, paging.limit),
        errors=errors,
    )


@blueprint.get("/account/experiments/_count")
@document_response(Envelope[int])
@authenticated
async def count_experiments() -> dict[str, Any]:
    """How many experiments of the caller match the filters (the portal: "any at all?")."""
    return envelope(
        await experiments.count_user_experiments(db(), require_user().user_id, _criteria())
    )


@blueprint.get("/account/experiments/years")
@document_response(Envelope[list[int]])
@authenticated
async def experiment_years() -> dict[str, Any]:
    """Years in which the caller's experiments start, with open-data years when enabled."""
    include_open_data = state().settings.client_config_include_open_data
    return envelope(
        await experiments.experiment_years(db(), require_user().user_id, include_open_data)
    )


@blueprint.get("/account/experiments/instruments")
@document_response(Envelope[list[InstrumentDto]])
@authenticated
async def experiment_instruments() -> dict[str, Any]:
    """Instruments on which the caller has experiments."""
    found = await experiments.experiment_instruments(db(), require_user().user_id)
    return envelope([instrument_dto(i) for i in found])
