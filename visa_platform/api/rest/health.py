"""``GET /api/health``: is the server up and can it reach its database (no authentication)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from quart import Blueprint, current_app
from quart_schema import document_response

from visa_platform.api.rest.schemas import Envelope, HealthDto
from visa_platform.db.engine import ping
from visa_platform.runtime import runtime

log = logging.getLogger("visa_platform.health")

blueprint = Blueprint("health", __name__)

DATABASE_TIMEOUT_SECONDS = 5.0


@blueprint.get("/health")
@document_response(Envelope[HealthDto])
@document_response(Envelope[HealthDto], 503)
async def health() -> tuple[dict[str, Any], int]:
    """Report the server's and the database's state: 200 when both are OK, 503 otherwise."""
    state = runtime(current_app)
    database: dict[str, object] = {"status": "OK", "message": None}
    try:
        if state.engine is None:
            raise RuntimeError("database engine is not open")
        await asyncio.wait_for(ping(state.engine), DATABASE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("event=health_check database=NOT_OK error=%r", type(exc).__name__)
        database = {"status": "NOT_OK", "message": "database unreachable"}
    ok = database["status"] == "OK"
    body = {
        "data": {
            "globalState": {"status": "OK" if ok else "NOT_OK", "message": None},
            "databaseState": database,
            "version": current_app.config["VISA_VERSION"],
        }
    }
    return body, 200 if ok else 503
