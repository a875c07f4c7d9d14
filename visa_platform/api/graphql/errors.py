"""GraphQL errors: domain errors keep their message and get a code; anything else is masked.

Every error carries ``extensions.code``. Unexpected exceptions are logged with their traceback and
reach the client as "Internal server error" (code ``INTERNAL``): no exception text leaks.
"""

from __future__ import annotations

import logging
from typing import Any

from tartiflette import TartifletteError
from tartiflette.types.exceptions.tartiflette import CoercionError

from visa_platform.domain.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    NotAuthorized,
    NotFound,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("visa_platform.api.graphql")

CODES: tuple[tuple[type[DomainError], str], ...] = (
    (NotFound, "NOT_FOUND"),
    (BadRequest, "BAD_REQUEST"),
    (Unauthenticated, "UNAUTHENTICATED"),
    (NotAuthorized, "FORBIDDEN"),
    (Forbidden, "FORBIDDEN"),
    (Unavailable, "UNAVAILABLE"),
)
INTERNAL = "INTERNAL"
INTERNAL_MESSAGE = "Internal server error"


class NotAvailable(DomainError):
    """A feature this server does not have yet (bookings, device pools, live migration)."""


def code_of(error: DomainError) -> str:
    if isinstance(error, NotAvailable):
        return "NOT_AVAILABLE"
    return next((code for cls, code in CODES if isinstance(error, cls)), "BAD_REQUEST")


def graphql_error(message: str, code: str) -> dict[str, Any]:
    """One entry of a response's ``errors`` list, for errors raised before execution."""
    return {"message": message, "path": None, "locations": [], "extensions": {"code": code}}


async def error_coercer(exception: Exception, error: dict[str, Any]) -> dict[str, Any]:
    """tartiflette's hook: add the code, mask unexpected exceptions."""
    original = getattr(exception, "original_error", None)
    extensions = error.setdefault("extensions", {})
    if isinstance(original, DomainError):
        error["message"] = original.message or type(original).__name__
        extensions["code"] = code_of(original)
    elif (
        original is not None
        and not isinstance(original, TartifletteError)
        and not isinstance(exception, CoercionError)
    ):
        log.error(
            "event=graphql_error path=%s",
            error.get("path"),
            exc_info=(type(original), original, original.__traceback__),
        )
        error["message"] = INTERNAL_MESSAGE
        extensions["code"] = INTERNAL
    else:
        # validation, syntax and coercion errors: their message is about the query itself
        extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
    return error
