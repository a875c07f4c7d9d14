"""``/api/instruments``: the facility's instruments (the support page's filter)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_response

from visa_platform.api.auth import authenticated
from visa_platform.api.context import db
from visa_platform.api.rest import params
from visa_platform.api.rest.catalogue_dto import instrument_dto
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import Envelope, InstrumentDto
from visa_platform.domain.errors import NotFound
from visa_platform.services import catalogue

blueprint = Blueprint("instruments", __name__)


@blueprint.get("/instruments")
@document_response(Envelope[list[InstrumentDto]])
@authenticated
async def list_instruments() -> dict[str, Any]:
    """Every instrument, by name."""
    return envelope([instrument_dto(i) for i in await catalogue.instruments(db())])


@blueprint.get("/instruments/<instrument_id>")
@document_response(Envelope[InstrumentDto])
@authenticated
async def get_instrument(instrument_id: str) -> dict[str, Any]:
    """One instrument by numeric id (anything else is a 404)."""
    found = await catalogue.instrument(db(), params.path_id(instrument_id, "instrument"))
    if found is None:
        raise NotFound("instrument not found")
    return envelope(instrument_dto(found))
