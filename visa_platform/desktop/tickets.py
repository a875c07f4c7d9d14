"""The one-time desktop ticket (spec §1.2): valid 15 s, for a non-deleted instance, single use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import Instance, InstanceAuthenticationToken
from visa_platform.services.tokens import TICKET_LIFETIME


@dataclass(frozen=True)
class Ticket:
    """Who may open which instance's desktop, and through which public link (if any)."""

    user_id: str
    instance_id: int
    public_access_token: str | None


async def consume_ticket(session: AsyncSession, token: str, now: datetime) -> Ticket | None:
    """The ticket behind ``token``, deleted at once; ``None`` if unknown, used or expired.

    The row is deleted whether or not it is still valid, and only the transaction that deletes
    it gets it (the delete's row count decides), so two replicas can never both use one ticket.
    The caller commits.
    """
    row = await session.scalar(
        select(InstanceAuthenticationToken)
        .join(Instance, Instance.id == InstanceAuthenticationToken.instance_id)
        .where(InstanceAuthenticationToken.token == token, Instance.deleted_at.is_(None))
    )
    if row is None:
        return None
    result = await session.execute(
        delete(InstanceAuthenticationToken)
        .where(InstanceAuthenticationToken.id == row.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1 or row.created_at + TICKET_LIFETIME < now:
        return None
    return Ticket(row.user_id, row.instance_id, row.public_access_token)


__all__ = ["Ticket", "consume_ticket"]
