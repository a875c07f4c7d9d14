"""``/api/account/bookings``: reservations are not built yet, so the portal hides its pages."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_response

from visa_platform.api.auth import authenticated
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import BookingConfigurationDto, Envelope

blueprint = Blueprint("bookings", __name__)


@blueprint.get("/account/bookings/config")
@document_response(Envelope[BookingConfigurationDto])
@authenticated
async def booking_configuration() -> dict[str, Any]:
    """``enabled: false`` (the portal's route guard hides the bookings area)."""
    return envelope({"enabled": False, "configurations": []})
