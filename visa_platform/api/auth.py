"""Who is calling: authentication before every request, and the decorators handlers use.

Authentication is proactive, as in VISA: a request with an ``Authorization`` header that no
plugin accepts gets 401 even on anonymous endpoints. Without the header it is anonymous.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from quart import g, request

from visa_platform.api.context import db, principal, state
from visa_platform.domain.errors import Forbidden, Unauthenticated
from visa_platform.domain.principal import Principal, PrincipalKind
from visa_platform.plugin.types import RequestCredentials

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


async def authenticate_request() -> None:
    """``before_request``: resolve the principal through the authentication plugins."""
    g.visa_principal = None
    if "authorization" not in request.headers:
        return
    credentials = RequestCredentials(
        method=request.method,
        path=request.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        remote_addr=request.remote_addr,
    )
    found = await state().plugins.authenticate_request(credentials, db(), state())
    if found is None:
        raise Unauthenticated("invalid credentials")
    g.visa_principal = found


def require_user() -> Principal:
    """The calling user; 401 when anonymous or when the caller is not a user (an instance ...)."""
    found = principal()
    if found is None or found.kind is not PrincipalKind.USER:
        raise Unauthenticated("a user's bearer token is required")
    return found


def authenticated(handler: F) -> F:
    """Only users (bearer tokens) may call this endpoint."""

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_user()
        return await handler(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def roles_allowed(*roles: str) -> Callable[[F], F]:
    """Only callers holding one of ``roles`` (401 when anonymous, 403 when lacking the role)."""

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = principal()
            if found is None:
                raise Unauthenticated("authentication required")
            if not found.roles & set(roles):
                raise Forbidden(f"requires one of the roles {', '.join(roles)}")
            return await handler(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
