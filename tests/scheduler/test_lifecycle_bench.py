"""A lifecycle pass over 10,000 instances: time and SQL statements (issue 5, performance).

A third of the instances are idle (inactivity warning), a third reach their termination date
within 48 h (lifetime warning), a third are in use. Pass 1 creates the expirations and queues the
warnings, pass 2 (a day later) executes them: DELETING and a DELETE command each. Run with
``pytest tests/scheduler/test_lifecycle_bench.py -m bench -s``.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from typing import Any

import pytest
from engine_fixtures import Engine, make_instances
from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import Instance, InstanceCommand, InstanceMember, Plan, User
from visa_platform.domain.enums import InstanceMemberRole, InstanceState
from visa_platform.notifications import NotificationDispatcher
from visa_platform.notifications.model import Notification
from visa_platform.services.lifecycle import PAGE_SIZE, run_lifecycle

INSTANCES = 10_000


class Counting(NotificationDispatcher):
    def __init__(self) -> None:
        super().__init__({})
        self.count = 0

    def notify(self, notification: Notification | None) -> bool:
        self.count += notification is not None
        return notification is not None


@pytest.mark.bench
async def test_lifecycle_pass_over_ten_thousand_instances(
    engine: Engine, db_session: AsyncSession
) -> None:
    await make_instances(db_session, 0)
    await db_session.execute(update(User).values(email="ada@example.org"))
    plan_id = await db_session.scalar(select(Plan.id))
    now = engine.clock.now()
    rows = []
    for n in range(INSTANCES):
        kind = n % 3
        rows.append(
            {
                "uid": f"b{n:07d}",
                "name": f"bench {n}",
                "plan_id": plan_id,
                "state": InstanceState.ACTIVE,
                "screen_width": 1280,
                "screen_height": 1024,
                "keyboard_layout": "en-gb-qwerty",
                "delete_requested": False,
                "last_seen_at": now - timedelta(hours=80 if kind == 0 else 1),
                "termination_date": now + timedelta(hours=24 if kind == 1 else 300),
            }
        )
    await db_session.execute(insert(Instance), rows)
    ids = (await db_session.scalars(select(Instance.id))).all()
    await db_session.execute(
        insert(InstanceMember),
        [{"instance_id": i, "user_id": "1001", "role": InstanceMemberRole.OWNER} for i in ids],
    )
    await db_session.commit()
    if db_session.get_bind().dialect.name == "postgresql":
        # as autovacuum would have done by now
        await db_session.execute(text("ANALYZE instance, instance_member, users"))
        await db_session.commit()

    mail = Counting()
    ctx = dataclasses.replace(engine.ctx, notifications=mail)
    sync_engine = engine.sessions.kw["bind"].sync_engine
    statements = 0

    def count(*args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        warned = await run_lifecycle(ctx)
        warn_seconds, warn_statements = time.perf_counter() - started, statements
        statements = 0
        engine.clock.advance(24 * 3600)
        started = time.perf_counter()
        executed = await run_lifecycle(ctx)
        execute_seconds, execute_statements = time.perf_counter() - started, statements
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)

    third = INSTANCES // 3
    assert warned.inactivity_warnings == third + 1 and warned.lifetime_warnings == third
    assert executed.deleting == 2 * third + 1
    async with engine.sessions() as session:
        commands = await session.scalar(select(func.count(InstanceCommand.id)))
    assert commands == 2 * third + 1
    assert mail.count == 2 * (2 * third + 1)
    pages = -(-(2 * third + 1) // PAGE_SIZE)
    print(
        f"\nlifecycle pass, {INSTANCES} instances ({engine.sessions.kw['bind'].dialect.name}): "
        f"warning pass {warn_seconds:.2f} s, {warn_statements} statements; "
        f"executing pass {execute_seconds:.2f} s, {execute_statements} statements "
        f"({pages} pages of {PAGE_SIZE})"
    )
    # bounded per page: a handful of statements per page of 500, not one per instance
    assert warn_statements < 12 * pages
    assert execute_statements < 12 * pages
