"""Application credentials (HTTP Basic for machine clients) managed by administrators.

The secret (72 alphanumerics) is returned once, at creation; only its salted hash is stored
(:mod:`visa_platform.services.credentials`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import ApplicationCredential
from visa_platform.db.types import utcnow
from visa_platform.domain.errors import BadRequest, NotFound
from visa_platform.services.credentials import hash_secret, random_alphanumeric

SECRET_LENGTH = 72
SALT_LENGTH = 16
MAX_NAME = 250


@dataclass(frozen=True)
class NewCredential:
    """A created credential and its secret (shown only now)."""

    id: int
    name: str
    application_id: str
    application_secret: str


def _name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME:
        raise BadRequest(f"a credential name needs 1 to {MAX_NAME} characters")
    return name


async def credentials(session: AsyncSession) -> list[ApplicationCredential]:
    return list(
        await session.scalars(
            select(ApplicationCredential)
            .where(ApplicationCredential.deleted_at.is_(None))
            .order_by(ApplicationCredential.name, ApplicationCredential.id)
        )
    )


async def create(session: AsyncSession, name: str) -> NewCredential:
    secret = random_alphanumeric(SECRET_LENGTH)
    salt = random_alphanumeric(SALT_LENGTH)
    row = ApplicationCredential(
        name=_name(name),
        application_id=uuid.uuid4().hex,
        application_secret=hash_secret(secret, salt),
        salt=salt,
    )
    session.add(row)
    await session.flush()
    return NewCredential(row.id, row.name, row.application_id, secret)


async def _find(session: AsyncSession, credential_id: int) -> ApplicationCredential:
    row = await session.get(ApplicationCredential, credential_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"Application credential with id {credential_id} not found")
    return row


async def rename(session: AsyncSession, credential_id: int, name: str) -> ApplicationCredential:
    row = await _find(session, credential_id)
    row.name = _name(name)
    await session.flush()
    return row


async def delete(session: AsyncSession, credential_id: int) -> ApplicationCredential:
    """Soft delete: the credential stops authenticating at once."""
    row = await _find(session, credential_id)
    row.deleted_at = utcnow()
    await session.flush()
    return row
