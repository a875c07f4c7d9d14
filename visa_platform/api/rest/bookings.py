"""``/api/account/bookings``: reservations are not built yet, so the portal hides its pages."""

from __future__ import annotations

from typing import Any

from quart import Blueprint

from visa_platform.api.auth import authenticated
from visa_platform.api.rest.envelope import envelope

blueprint = Blueprint("bookings", __name__)


@blueprint.get("/account/bookings/config")
@authenticated
async def booking_configuration() -> dict[str, Any]:
    """``enabled: false`` (the portal's route guard hides the bookings area)."""
    return envelope({"enabled": False, "configurations": []})
