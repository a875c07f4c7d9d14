"""A power action or a deletion ends the desktop sessions of its instance, and of no other."""

from __future__ import annotations

import pytest
from engine_fixtures import Engine, make_instances
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import InstanceSession, InstanceSessionMember
from visa_platform.domain.enums import CloudInstanceState, InstanceMemberRole, InstanceState
from visa_platform.services import instance_actions


async def sessions_of(engine: Engine, instance_id: int) -> list[tuple[bool, list[bool]]]:
    """(current, [member active, ...]) of each session of the instance, oldest first."""
    async with engine.sessions() as session:
        rows = await session.scalars(
            select(InstanceSession)
            .where(InstanceSession.instance_id == instance_id)
            .order_by(InstanceSession.id)
        )
        found = []
        for row in rows.all():
            members = await session.scalars(
                select(InstanceSessionMember.active)
                .where(InstanceSessionMember.instance_session_id == row.id)
                .order_by(InstanceSessionMember.id)
            )
            found.append((row.current, list(members)))
        return found


@pytest.mark.parametrize("action", ["start", "shutdown", "reboot", "delete"])
async def test_an_action_ends_the_sessions_of_its_instance_only(
    engine: Engine, db_session: AsyncSession, action: str
) -> None:
    target, other = await make_instances(
        db_session, 2, state=InstanceState.ACTIVE, compute_ids=True
    )
    for instance_id in (target, other):
        compute_id = (await engine.instance(instance_id)).compute_id
        assert compute_id is not None
        engine.cloud.put(compute_id, CloudInstanceState.ACTIVE)
    for instance_id in (target, other):
        # one session a client is in, one retired earlier that a member had left
        for current, active in ((False, False), (True, True)):
            row = InstanceSession(
                instance_id=instance_id, protocol="GUACD", connection_id="$c", current=current
            )
            db_session.add(row)
            await db_session.flush()
            db_session.add(
                InstanceSessionMember(
                    instance_session_id=row.id,
                    session_id="tab",
                    user_id="1001",
                    role=InstanceMemberRole.OWNER,
                    active=active,
                )
            )
    await db_session.commit()
    assert await sessions_of(engine, target) == [(False, [False]), (True, [True])]

    await getattr(instance_actions, action)(engine.ctx, target, None)

    assert await sessions_of(engine, target) == [(False, [False]), (False, [False])]
    assert await sessions_of(engine, other) == [(False, [False]), (True, [True])]
