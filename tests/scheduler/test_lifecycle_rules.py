"""Instance lifecycle (spec/domain.md §3.3-§3.5): warnings, expirations, deletions, over weeks.

The real scheduler runs the real ``instance_lifecycle`` job (with the other jobs) on a
``ManualClock``: each step jumps the clock and ticks once, so weeks pass in milliseconds.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from engine_fixtures import Engine, make_instances
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import (
    Image,
    Instance,
    InstanceExpiration,
    InstanceMember,
    Role,
    User,
    UserRole,
)
from visa_platform.domain.enums import ImageAutoAcceptExtensionRequest, InstanceState
from visa_platform.notifications import NotificationDispatcher
from visa_platform.notifications.messages import Kind
from visa_platform.notifications.model import Notification
from visa_platform.scheduler import ManualClock
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.scheduler.core import Scheduler
from visa_platform.scheduler.jobs import build_scheduler
from visa_platform.services import extensions, lifecycle
from visa_platform.services.instance_actions import EngineContext
from visa_platform.services.instances import queue

HOUR = 3600.0
P = 5 / 60  # one period of the lifecycle job, in hours
USER, STAFF = "1001", "2002"


class Mailbox(NotificationDispatcher):
    """Records every notification queued, with the simulated time it was queued at."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__({})
        self.clock = clock
        self.sent: list[tuple[datetime, Notification]] = []

    def notify(self, notification: Notification | None) -> bool:
        if notification is None:
            return False
        self.sent.append((self.clock.now(), notification))
        return True

    def of(self, instance_id: int) -> list[tuple[str, datetime, dict[str, Any]]]:
        return [
            (n.kind, at, dict(n.context))
            for at, n in self.sent
            if n.context.get("instance", {}).get("id") == instance_id
        ]


@dataclasses.dataclass
class Lab:
    engine: Engine
    ctx: EngineContext
    mail: Mailbox
    scheduler: Scheduler
    executor: CommandExecutor
    start: datetime

    @property
    def clock(self) -> ManualClock:
        return self.engine.clock

    async def at(self, hours: float) -> None:
        """Jump to ``start + hours`` and tick the scheduler once (every job is due)."""
        target = self.start + timedelta(hours=hours)
        assert target > self.clock.now()
        self.clock.advance((target - self.clock.now()).total_seconds())
        assert "instance_lifecycle" in await self.scheduler.tick()
        await self.scheduler.drain()
        await self.executor.wait_idle()

    async def add(
        self,
        *,
        owner: str = USER,
        seen_hours_ago: float = 0,
        lifetime_hours: float | None = 30 * 24,
        booked: bool = False,
    ) -> int:
        now = self.clock.now()
        async with self.engine.sessions() as session:
            [instance_id] = await make_instances(session, 1, state=InstanceState.ACTIVE)
            await session.execute(
                update(Instance)
                .where(Instance.id == instance_id)
                .values(
                    last_seen_at=now - timedelta(hours=seen_hours_ago),
                    termination_date=(
                        None if lifetime_hours is None else now + timedelta(hours=lifetime_hours)
                    ),
                    booking_token_id=77 if booked else None,
                )
            )
            await session.execute(
                update(InstanceMember)
                .where(InstanceMember.instance_id == instance_id)
                .values(user_id=owner)
            )
            await session.commit()
        return instance_id

    async def seen(self, instance_id: int) -> None:
        """Activity now (what the desktop relay writes)."""
        async with self.engine.sessions() as session:
            await session.execute(
                update(Instance)
                .where(Instance.id == instance_id)
                .values(last_seen_at=self.clock.now())
            )
            await session.commit()

    async def expiration(self, instance_id: int) -> datetime | None:
        async with self.engine.sessions() as session:
            row = await session.scalar(
                select(InstanceExpiration.expiration_date).where(
                    InstanceExpiration.instance_id == instance_id
                )
            )
            instance = await session.get(Instance, instance_id)
            assert instance is not None
            assert instance.expiration_date == row  # the column follows the expiration
            return row

    def hours(self, moment: datetime) -> float:
        return (moment - self.start).total_seconds() / HOUR


@pytest.fixture
async def lab(engine: Engine, db_session: AsyncSession) -> AsyncIterator[Lab]:
    await make_instances(db_session, 0)  # the plan and user 1001
    staff_role = await db_session.scalar(select(Role).where(Role.name == "STAFF"))
    assert staff_role is not None
    await db_session.execute(update(User).where(User.id == USER).values(email="ada@example.org"))
    db_session.add(User(id=STAFF, first_name="Grace", last_name="Hopper", email="grace@ex.org"))
    await db_session.flush()
    db_session.add(UserRole(user_id=STAFF, role_id=staff_role.id))
    await db_session.commit()
    mail = Mailbox(engine.clock)
    ctx = dataclasses.replace(engine.ctx, notifications=mail)
    scheduler, executor = build_scheduler(ctx, clock=engine.clock)
    yield Lab(engine, ctx, mail, scheduler, executor, engine.clock.now())
    await scheduler.stop()
    await executor.stop()


async def test_inactivity_warning_then_deletion_for_users_and_staff(lab: Lab) -> None:
    user = await lab.add(owner=USER)
    staff = await lab.add(owner=STAFF)

    await lab.at(72)  # last_seen_at + 96 h - 24 h: not yet (VISA compares strictly)
    assert lab.mail.sent == [] and await lab.expiration(user) is None
    await lab.at(72 + P)  # the next pass
    [(kind, at, context)] = lab.mail.of(user)
    assert (kind, lab.hours(at)) == (Kind.INSTANCE_EXPIRING, 72 + P)
    assert context["expirationDate"] == lab.start + timedelta(hours=96)
    assert context["maxInactivityDurationDays"] == 4
    assert await lab.expiration(user) == lab.start + timedelta(hours=96)
    assert await lab.expiration(staff) is None

    await lab.at(96 - 0.1)
    assert (await lab.engine.instance(user)).state is InstanceState.ACTIVE
    await lab.at(96)
    instance = await lab.engine.instance(user)
    assert instance.state is InstanceState.DELETED and instance.deleted_at is not None
    assert await lab.engine.commands(user) == [("DELETE", "TERMINATED", None)]
    async with lab.engine.sessions() as session:
        from visa_platform.db.models import InstanceCommand

        command = await session.scalar(
            select(InstanceCommand).where(InstanceCommand.instance_id == user)
        )
        assert command is not None and command.user_id is None  # no user: the system did it
    assert await lab.expiration(user) is None
    assert [c for c in lab.engine.recorder.changes if c[0] == user] == [
        (user, "ACTIVE", "DELETING"),
        (user, "DELETING", "DELETED"),
    ]
    gateway = [
        e.data["state"] for e in lab.engine.broker.events if e.type == "user:instance_state_changed"
    ]
    assert gateway == ["DELETING"]
    deleted = [(k, lab.hours(a), c["reason"]) for k, a, c in lab.mail.of(user)[1:]]
    assert deleted == [(Kind.INSTANCE_DELETED, 96, "inactivity")]

    # staff owners: 192 h of inactivity
    await lab.at(168)
    assert lab.mail.of(staff) == []
    await lab.at(168 + P)
    [(kind, at, context)] = lab.mail.of(staff)
    assert (kind, lab.hours(at), context["maxInactivityDurationDays"]) == (
        Kind.INSTANCE_EXPIRING,
        168 + P,
        8,
    )
    assert context["expirationDate"] == lab.start + timedelta(hours=192)
    await lab.at(192 - P)
    assert (await lab.engine.instance(staff)).state is InstanceState.ACTIVE
    await lab.at(192)
    assert [(k, lab.hours(a)) for k, a, _ in lab.mail.of(staff)] == [
        (Kind.INSTANCE_EXPIRING, 168 + P),
        (Kind.INSTANCE_DELETED, 192),
    ]
    assert (await lab.engine.instance(staff)).state is InstanceState.DELETED
    # weeks later: nothing more, nothing twice
    for hours in range(216, 24 * 21, 24):
        await lab.at(hours)
    assert len(lab.mail.sent) == 4
    assert len({n.id for _, n in lab.mail.sent}) == 4


async def test_a_staff_role_expired_in_simulated_time_no_longer_counts(lab: Lab) -> None:
    """Role expiry is judged at the engine clock's time, not the real one."""
    async with lab.engine.sessions() as session:
        await session.execute(
            update(UserRole)
            .where(UserRole.user_id == STAFF)
            .values(expires_at=lab.start + timedelta(hours=24))
        )
        await session.commit()
    staff = await lab.add(owner=STAFF)
    await lab.at(72 + P)  # a user's warning time; the role expired at 24 h (simulated)
    [(kind, _, context)] = lab.mail.of(staff)
    assert (kind, context["maxInactivityDurationDays"]) == (Kind.INSTANCE_EXPIRING, 4)


async def test_lifetime_warning_48_hours_before_termination(lab: Lab) -> None:
    instance = await lab.add(lifetime_hours=100)
    for hours in (12, 24, 36, 52):
        await lab.seen(instance)  # in use all along: inactivity never applies
        await lab.at(hours)
    assert lab.mail.sent == []
    await lab.seen(instance)
    await lab.at(52 + P)
    [(kind, at, context)] = lab.mail.of(instance)
    assert (kind, lab.hours(at)) == (Kind.INSTANCE_LIFETIME, 52 + P)
    assert context["terminationDate"] == lab.start + timedelta(hours=100)
    assert context["maxLifetimeDurationDays"] == 14

    # activity does not cancel a lifetime expiration (step 1, nor onInstanceActivated)
    await lab.seen(instance)
    async with lab.engine.sessions() as session:
        assert await lifecycle.on_instance_activated(session, instance) is False
        await session.commit()
    await lab.at(99.9)
    assert await lab.expiration(instance) == lab.start + timedelta(hours=100)
    await lab.at(100)
    assert (await lab.engine.instance(instance)).state is InstanceState.DELETED
    assert [(k, lab.hours(a), c.get("reason")) for k, a, c in lab.mail.of(instance)] == [
        (Kind.INSTANCE_LIFETIME, 52 + P, None),
        (Kind.INSTANCE_DELETED, 100, "lifetime"),
    ]


async def test_immortal_and_booked_instances_never_expire_through_inactivity(lab: Lab) -> None:
    immortal = await lab.add(lifetime_hours=None, seen_hours_ago=1000)
    booked = await lab.add(booked=True, seen_hours_ago=1000, lifetime_hours=24 * 25)
    for hours in range(24, 24 * 21, 24):
        await lab.at(hours)
    assert lab.mail.sent == []
    assert await lab.expiration(immortal) is None and await lab.expiration(booked) is None

    # a booked instance still reaches its termination date (the end of its booking)
    await lab.at(24 * 23 + P)
    assert [k for k, _, _ in lab.mail.of(booked)] == [Kind.INSTANCE_LIFETIME]
    await lab.at(24 * 25)
    assert (await lab.engine.instance(booked)).state is InstanceState.DELETED
    assert (await lab.engine.instance(immortal)).state is InstanceState.ACTIVE


async def test_an_instance_made_immortal_loses_its_expiration(lab: Lab) -> None:
    instance = await lab.add(lifetime_hours=40)
    await lab.at(1)
    assert await lab.expiration(instance) == lab.start + timedelta(hours=40)
    async with lab.engine.sessions() as session:  # the admin clears the termination date
        await session.execute(
            update(Instance).where(Instance.id == instance).values(termination_date=None)
        )
        await session.commit()
    await lab.at(2)
    assert await lab.expiration(instance) is None
    await lab.at(24 * 10)
    assert (await lab.engine.instance(instance)).state is InstanceState.ACTIVE
    assert [k for k, _, _ in lab.mail.of(instance)] == [Kind.INSTANCE_LIFETIME]


async def test_activity_after_the_warning_cancels_the_inactivity_expiration(lab: Lab) -> None:
    by_traffic = await lab.add()
    by_connection = await lab.add()
    await lab.at(72 + P)
    assert await lab.expiration(by_traffic) is not None
    assert await lab.expiration(by_connection) is not None

    await lab.at(80)
    await lab.seen(by_traffic)  # desktop traffic: the next pass cancels (step 1)
    async with lab.engine.sessions() as session:  # a connection: cancelled at once
        assert await lifecycle.on_instance_activated(session, by_connection) is True
        await session.commit()
    assert await lab.expiration(by_connection) is None
    await lab.seen(by_connection)
    await lab.at(80.1)
    assert await lab.expiration(by_traffic) is None

    await lab.at(96)
    for instance in (by_traffic, by_connection):
        assert (await lab.engine.instance(instance)).state is InstanceState.ACTIVE
    await lab.at(152)
    assert [k for k, _, _ in lab.mail.of(by_traffic)] == [Kind.INSTANCE_EXPIRING]
    await lab.at(152 + P)  # 80 h + 72 h: warned again, for the new date
    for instance in (by_traffic, by_connection):
        warnings = [(lab.hours(a), c["expirationDate"]) for _, a, c in lab.mail.of(instance)]
        assert warnings == [
            (72 + P, lab.start + timedelta(hours=96)),
            (152 + P, lab.start + timedelta(hours=176)),
        ]
    await lab.at(176)
    assert (await lab.engine.instance(by_traffic)).state is InstanceState.DELETED
    assert Counter(n.kind for _, n in lab.mail.sent) == {
        Kind.INSTANCE_EXPIRING: 4,
        Kind.INSTANCE_DELETED: 2,
    }


async def test_an_accepted_extension_cancels_the_expiration(lab: Lab) -> None:
    instance = await lab.add(lifetime_hours=50)
    async with lab.engine.sessions() as session:
        await session.execute(
            update(Image).values(auto_accept_extension_request=ImageAutoAcceptExtensionRequest.ALL)
        )
        await session.execute(
            update(Instance).where(Instance.id == instance).values(lifetime_minutes=50 * 60)
        )
        await session.commit()
    await lab.at(2 + P)
    assert [k for k, _, _ in lab.mail.of(instance)] == [Kind.INSTANCE_LIFETIME]
    assert await lab.expiration(instance) == lab.start + timedelta(hours=50)

    async with lab.engine.sessions() as session:
        from visa_platform.services.instances import load

        [loaded] = await load(session, [instance])
        request, created = await extensions.request_extension(
            session, loaded, "more please", frozenset(), lab.ctx.settings, now=lab.clock.now()
        )
        assert created and request.state.value == "ACCEPTED"
        await session.commit()
    assert await lab.expiration(instance) is None

    await lab.seen(instance)
    await lab.at(50)  # the old termination date passes: nothing happens
    assert (await lab.engine.instance(instance)).state is InstanceState.ACTIVE
    await lab.seen(instance)
    await lab.at(52 + P)  # 48 h before the new termination date (100 h)
    assert [(k, lab.hours(a)) for k, a, _ in lab.mail.of(instance)] == [
        (Kind.INSTANCE_LIFETIME, 2 + P),
        (Kind.INSTANCE_LIFETIME, 52 + P),
    ]
    await lab.at(100)
    assert (await lab.engine.instance(instance)).state is InstanceState.DELETED


async def test_a_failure_keeps_the_expiration_for_the_next_pass(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy = await lab.add(lifetime_hours=10)
    broken = await lab.add(lifetime_hours=10)
    real_queue = queue

    def failing_queue(instance: Any, user_id: str | None, action: Any) -> Any:
        if instance.id == broken:
            raise RuntimeError("database hiccup")
        return real_queue(instance, user_id, action)

    monkeypatch.setattr(lifecycle, "queue", failing_queue)
    await lab.at(10)
    assert (await lab.engine.instance(healthy)).state is InstanceState.DELETED
    kept = await lab.engine.instance(broken)
    assert kept.state is InstanceState.ACTIVE  # the previous state, restored
    assert await lab.expiration(broken) == lab.start + timedelta(hours=10)
    assert await lab.engine.commands(broken) == []
    assert [k for k, _, _ in lab.mail.of(broken)] == [Kind.INSTANCE_LIFETIME]

    await lab.at(10.1)  # still failing: still kept, no email
    assert await lab.expiration(broken) is not None

    monkeypatch.setattr(lifecycle, "queue", real_queue)
    await lab.at(10.2)
    assert (await lab.engine.instance(broken)).state is InstanceState.DELETED
    await lab.at(11)
    for instance in (healthy, broken):
        assert [k for k, _, _ in lab.mail.of(instance)] == [
            Kind.INSTANCE_LIFETIME,
            Kind.INSTANCE_DELETED,
        ]


async def test_the_expiration_of_an_instance_deleted_meanwhile_is_just_dropped(
    lab: Lab,
) -> None:
    instance = await lab.add(lifetime_hours=10)
    await lab.at(1)
    async with lab.engine.sessions() as session:
        await session.execute(
            update(Instance)
            .where(Instance.id == instance)
            .values(state=InstanceState.DELETED, deleted_at=lab.clock.now())
        )
        await session.commit()
    await lab.at(10)
    assert await lab.expiration(instance) is None
    assert await lab.engine.commands(instance) == []
    assert [k for k, _, _ in lab.mail.of(instance)] == [Kind.INSTANCE_LIFETIME]


async def test_one_expiration_per_instance(lab: Lab) -> None:
    instance = await lab.add(lifetime_hours=10)
    await lab.at(1)
    async with lab.engine.sessions() as session:  # creating one again is a no-op
        await lifecycle._insert_expirations(session, [(instance, lab.clock.now())], lab.clock.now())
        await session.commit()
        count = len(
            (
                await session.scalars(
                    select(InstanceExpiration).where(InstanceExpiration.instance_id == instance)
                )
            ).all()
        )
    assert count == 1


async def test_statements_are_bounded_per_page_not_per_instance(lab: Lab) -> None:
    async def cost(count: int) -> tuple[int, int]:
        """Statements of the pass that warns ``count`` instances and of the one deleting them."""
        ids = [await lab.add(seen_hours_ago=80, lifetime_hours=30 * 24) for _ in range(count)]
        sync_engine = lab.engine.sessions.kw["bind"].sync_engine
        statements = 0

        def count_statement(*args: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(sync_engine, "before_cursor_execute", count_statement)
        try:
            report = await lifecycle.run_lifecycle(lab.ctx, page_size=100)
            assert report.inactivity_warnings == count
            warned, statements = statements, 0
            lab.clock.advance(20 * HOUR)
            report = await lifecycle.run_lifecycle(lab.ctx, page_size=100)
            assert report.deleting == count
            deleting = statements
        finally:
            event.remove(sync_engine, "before_cursor_execute", count_statement)
        for instance_id in ids:
            assert (await lab.engine.instance(instance_id)).state is InstanceState.DELETING
        async with lab.engine.sessions() as session:  # as their DELETE commands would
            await session.execute(
                update(Instance)
                .where(Instance.id.in_(ids))
                .values(state=InstanceState.DELETED, deleted_at=lab.clock.now())
            )
            await session.commit()
        return warned, deleting

    small = await cost(5)
    large = await cost(60)
    assert small == large
    assert len(lab.mail.sent) == 2 * 65
