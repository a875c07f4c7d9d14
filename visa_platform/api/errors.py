"""Domain errors and HTTP errors as responses, in one place.

Bodies are VISA's envelope with an ``errors`` list (the original sent empty bodies; the portal
ignores error bodies, and a message helps every other client). Status codes are the original's.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, jsonify
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from visa_platform.domain.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    NotAuthorized,
    NotFound,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)

log = logging.getLogger("visa_platform.api")

STATUS: dict[type[DomainError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    NotAuthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Unavailable: 503,
}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"data": None, "errors": [message]})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _challenge(message: str) -> str:
    """VISA puts a NotAuthorized message in the challenge header; keep it header-safe."""
    safe = "".join(c if 32 <= ord(c) < 127 else "?" for c in message)[:200]
    return safe or "Bearer"


def violation_report(violations: list[tuple[str, str]]) -> Response:
    """Quarkus' report: ``{"title": "Constraint Violation", "status": 400, "violations"}``."""
    response = jsonify(
        {
            "title": "Constraint Violation",
            "status": 400,
            "violations": [{"field": f, "message": m} for f, m in violations],
        }
    )
    response.status_code = 400
    return response


async def _domain_error(error: DomainError) -> Response:
    if isinstance(error, ValidationFailed):
        return violation_report(error.violations)
    status = next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)
    headers: dict[str, str] = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(error, NotAuthorized):
        headers["WWW-Authenticate"] = _challenge(error.message)
    default = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 503: "Unavailable"}
    return error_response(status, error.message or default.get(status, "Bad request"), headers)


async def _validation_error(error: RequestSchemaValidationError) -> Response:
    """Quarkus' violation report shape, which the original returns for bean-validation failures."""
    validation: Any = error.validation_error
    if hasattr(validation, "errors"):
        return violation_report(violations_of(validation))
    return violation_report([("body", str(validation))])


def violations_of(validation: Any) -> list[tuple[str, str]]:
    """(field, message) pairs of a pydantic ``ValidationError``."""
    return [
        (".".join(str(p) for p in item.get("loc", ())) or "body", item.get("msg", "invalid"))
        for item in validation.errors(include_url=False)
    ]


async def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return error_response(status, error.description or error.name)


async def _unexpected(error: Exception) -> Response:
    log.exception("event=unhandled_error")
    return error_response(500, "Internal server error")


def register(app: Quart) -> None:
    """Install the handlers on ``app``."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(RequestSchemaValidationError, _validation_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
