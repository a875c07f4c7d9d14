"""``/api/helpers``: small conveniences for the portal."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_response

from visa_platform.api.auth import authenticated
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import Envelope
from visa_platform.domain.names import random_instance_name

blueprint = Blueprint("helpers", __name__)


@blueprint.get("/helpers/random_instance_name")
@document_response(Envelope[str])
@authenticated
async def instance_name() -> dict[str, Any]:
    """A random default name for a new instance, such as ``brave_lion``."""
    return envelope(random_instance_name())
