"""One-time tickets for websockets (spec/domain.md §1.4): valid 15 s, deleted when used."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.accounts.contract import INVALID_USER_ID
from visa_platform.db.models import ClientAuthenticationToken
from visa_platform.db.types import utcnow
from visa_platform.domain.errors import BadRequest, NotAuthorized

TICKET_LIFETIME = timedelta(seconds=15)
MAX_CLIENT_ID_LENGTH = 250


async def create_client_token(session: AsyncSession, user_id: str, client_id: str) -> str:
    """A ticket for the event gateway of ``client_id``; the invalid account "0" gets none."""
    if user_id == INVALID_USER_ID:
        raise NotAuthorized("invalid account")
    if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise BadRequest(f"clientId must be 1 to {MAX_CLIENT_ID_LENGTH} characters")
    token = str(uuid.uuid4())
    session.add(ClientAuthenticationToken(client_id=client_id, token=token, user_id=user_id))
    await session.flush()
    return token


async def consume_client_token(
    session: AsyncSession, token: str, client_id: str, now: datetime | None = None
) -> str | None:
    """The user id of a valid ticket for ``client_id``, which is deleted; ``None`` otherwise."""
    now = now or utcnow()
    row = await session.scalar(
        select(ClientAuthenticationToken).where(ClientAuthenticationToken.token == token)
    )
    if row is None:
        return None
    await session.execute(
        delete(ClientAuthenticationToken).where(ClientAuthenticationToken.id == row.id)
    )
    await session.flush()
    if row.client_id != client_id or row.created_at + TICKET_LIFETIME < now:
        return None
    return row.user_id
