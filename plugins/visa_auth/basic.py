"""HTTP Basic credentials: instances (id:computeId) first, then application credentials."""

from __future__ import annotations

import base64
import binascii

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import ApplicationCredential, Instance
from visa_platform.db.types import utcnow
from visa_platform.domain.principal import Principal, PrincipalKind
from visa_platform.services.credentials import verify_secret


def decode(value: str) -> tuple[str, str] | None:
    """``(user, password)`` from a Basic header value; ``None`` for bad base64 or no colon."""
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in text:
        return None
    user, _, password = text.partition(":")
    return user, password


async def instance_principal(session: AsyncSession, user: str, password: str) -> Principal | None:
    """An instance authenticating with its own id and compute id (role INSTANCE_CREDENTIAL)."""
    if not user.isdigit() or not password:
        return None
    instance = await session.scalar(
        select(Instance).where(Instance.id == int(user), Instance.deleted_at.is_(None))
    )
    if instance is None or instance.compute_id != password:
        return None
    return Principal(
        user_id=str(instance.id),
        kind=PrincipalKind.INSTANCE,
        roles=frozenset({"INSTANCE_CREDENTIAL"}),
    )


async def application_principal(
    session: AsyncSession, user: str, password: str
) -> Principal | None:
    """An application credential (role APPLICATION_CREDENTIAL); records its last use."""
    credential = await session.scalar(
        select(ApplicationCredential).where(
            ApplicationCredential.application_id == user,
            ApplicationCredential.deleted_at.is_(None),
        )
    )
    if credential is None or not verify_secret(
        password, credential.salt, credential.application_secret
    ):
        return None
    credential.last_used_at = utcnow()
    await session.commit()
    return Principal(
        user_id=credential.application_id,
        kind=PrincipalKind.APPLICATION,
        roles=frozenset({"APPLICATION_CREDENTIAL"}),
        username=credential.name,
    )
