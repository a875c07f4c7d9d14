"""Per-request state: the database session and the authenticated principal.

A request gets one :class:`~sqlalchemy.ext.asyncio.AsyncSession`, opened on first use and closed
(rolled back if not committed) when the request ends. Handlers commit explicitly.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from quart import current_app, g
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.domain.errors import BadRequest, ValidationFailed
from visa_platform.domain.principal import Principal
from visa_platform.runtime import Runtime, runtime


def state() -> Runtime:
    return runtime(current_app)


def db() -> AsyncSession:
    """The request's database session."""
    session: AsyncSession | None = g.get("visa_db")
    if session is None:
        session = state().session()
        g.visa_db = session
    return session


async def close_db(_exc: BaseException | None = None) -> None:
    session: AsyncSession | None = g.pop("visa_db", None)
    if session is not None:
        await session.close()


def principal() -> Principal | None:
    """The authenticated caller, or ``None`` for an anonymous request."""
    found: Principal | None = g.get("visa_principal")
    return found


async def read_json() -> Any:
    """The request body as JSON; malformed or missing JSON is a clear 400 (the original: 500)."""
    from quart import request

    raw = await request.get_data(as_text=False)
    try:
        body = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the request body is not UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    if not body.strip():
        raise BadRequest("a JSON request body is required")
    import json

    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"malformed JSON body: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


M = TypeVar("M", bound=BaseModel)


async def parse_body(model: type[M]) -> M:
    """The JSON body validated by ``model``; 400 with a violation report when it does not fit."""
    from visa_platform.api.errors import violations_of

    body = await read_json()
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(violations_of(exc)) from None
