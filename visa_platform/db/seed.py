"""Startup fixtures: the seven roles and the six protocols (spec/domain.md §1.1, §1.3).

VISA seeds them when the tables hold none; so do we, idempotently. The caller commits.
"""

from __future__ import annotations

import logging

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from visa_platform.db.models import Protocol, Role
from visa_platform.domain.enums import ProtocolName, RoleName

ROLE_DESCRIPTIONS: dict[RoleName, str] = {
    RoleName.ADMIN: "Administrator Role",
    RoleName.STAFF: "Staff Role",
    RoleName.IT_SUPPORT: "IT Support Role",
    RoleName.INSTRUMENT_SCIENTIST: "Instrument Scientist Role",
    RoleName.INSTRUMENT_CONTROL: "Instrument Control Role",
    RoleName.SCIENTIFIC_COMPUTING: "Scientific Computing Role",
    RoleName.GUEST: "Guest Role",
}
"""The seeded roles, in VISA's fixture order, with their descriptions."""

PROTOCOL_PORTS: dict[ProtocolName, int] = {
    ProtocolName.RDP: 3389,
    ProtocolName.GUACD: 4822,
    ProtocolName.JUPYTER: 8888,
    ProtocolName.WEBX: 5555,
    ProtocolName.VISA_FS: 8090,
    ProtocolName.VISA_PRINT: 8091,
}
"""The seeded protocols and their TCP ports."""

log = logging.getLogger("visa_platform.db.seed")


async def seed_fixtures(session: AsyncSession) -> None:
    """Insert the roles if no role (non-group row) exists, and the protocols if none exists.

    Flushes, but leaves the commit to the caller.
    """
    has_role = await session.scalar(select(exists().where(Role.group_created_at.is_(None))))
    if not has_role:
        session.add_all(
            Role(name=name.value, description=description)
            for name, description in ROLE_DESCRIPTIONS.items()
        )
    has_protocol = await session.scalar(select(exists().where(Protocol.id.is_not(None))))
    if not has_protocol:
        session.add_all(
            Protocol(name=name.value, port=port) for name, port in PROTOCOL_PORTS.items()
        )
    await session.flush()


async def ensure_fixtures(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Seed and commit the fixtures at start-up, tolerating a replica that seeds concurrently.

    When two servers start on an empty database together, one commit loses: on the unique role
    name (PostgreSQL) or on a stale snapshot (SQLite: "database is locked"). The loser rolls back
    and tries once more, which finds the winner's fixtures.
    """
    async with sessions() as session:
        try:
            await seed_fixtures(session)
            await session.commit()
            return
        except (IntegrityError, OperationalError):
            await session.rollback()
    async with sessions() as session:
        await seed_fixtures(session)  # a no-op when the other replica's rows are visible
        await session.commit()
    log.info("event=fixtures_seeded_elsewhere outcome=ok")
