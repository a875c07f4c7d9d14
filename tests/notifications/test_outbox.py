"""The persisted outbox (``notification_outbox``) on both databases: survives restarts, shared
by replicas, never doubled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from visa_platform.db.engine import session_factory
from visa_platform.db.models.outbox import NotificationOutbox
from visa_platform.notifications import Notification, NotificationDispatcher
from visa_platform.notifications.outbox import OutboxStore, decode, encode


class Recorder:
    """A channel that fails ``failures`` times, then records what it sends."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts = 0
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("down")
        self.sent.append(notification)

    async def aclose(self) -> None:
        pass


def note(kind: str = "test") -> Notification:
    return Notification(kind=kind, subject="s", template="t", recipients=("a@example.org",))


def store_for(db_engine: Any, lease: float = 120.0) -> OutboxStore:
    return OutboxStore(session_factory(db_engine), lease=lease)


def persisted(
    channels: dict[str, Any], store: OutboxStore, **options: Any
) -> NotificationDispatcher:
    options = {"first_delay": 0.01, "max_delay": 0.05, "poll_interval": 0.02, **options}
    return NotificationDispatcher(channels, store=store, **options)


async def rows(db_engine: Any) -> list[NotificationOutbox]:
    async with session_factory(db_engine)() as session:
        return list(
            (await session.execute(select(NotificationOutbox).order_by(NotificationOutbox.id)))
            .scalars()
            .all()
        )


def test_payload_round_trip_keeps_datetimes() -> None:
    when = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
    n = Notification(
        kind="k",
        subject="s",
        template="t",
        context={"expirationDate": when, "instance": {"id": 1, "names": ["a", "b"]}},
        recipients=("a@example.org",),
        cc_admins=True,
    )
    assert decode(encode(n)) == Notification(
        kind="k",
        subject="s",
        template="t",
        context={"expirationDate": when, "instance": {"id": 1, "names": ["a", "b"]}},
        recipients=("a@example.org",),
        cc_admins=True,
        id=n.id,
    )


async def test_notifications_are_written_then_delivered_once(db_engine: Any) -> None:
    channel = Recorder(failures=2)
    dispatcher = persisted({"c": channel}, store_for(db_engine))
    await dispatcher.start()
    n = note()
    assert dispatcher.notify(n)
    assert dispatcher.notify(n) is False
    assert await dispatcher.join(10)
    await dispatcher.aclose()
    assert [s.id for s in channel.sent] == [n.id]
    [row] = await rows(db_engine)
    assert (row.state, row.attempts, row.channel, row.claimed_until) == ("SENT", 3, "c", None)
    assert "ConnectionRefusedError" in (row.last_error or "")


async def test_pending_notifications_survive_a_restart(db_engine: Any) -> None:
    down = Recorder(failures=1000)
    first = persisted({"c": down}, store_for(db_engine), first_delay=3600)
    await first.start()
    n = note("restart")
    first.notify(n)
    for _ in range(500):
        if down.attempts:
            break
        await asyncio.sleep(0.01)
    await first.aclose(grace=0.05)
    assert down.sent == []
    [row] = await rows(db_engine)
    assert row.state == "PENDING"

    # the next process (or another replica) delivers it once it is due
    async with session_factory(db_engine)() as session, session.begin():
        stored = await session.get(NotificationOutbox, row.id)
        assert stored is not None
        stored.next_attempt_at = datetime.now(UTC)
    up = Recorder()
    second = persisted({"c": up}, store_for(db_engine))
    await second.start()
    assert await second.join(10)
    await second.aclose()
    assert [s.id for s in up.sent] == [n.id]
    assert up.sent[0].kind == "restart"
    [row] = await rows(db_engine)
    assert (row.state, row.attempts) == ("SENT", 2)


async def test_two_replicas_deliver_each_notification_once(db_engine: Any) -> None:
    one, two = Recorder(), Recorder()
    a = persisted({"c": one}, store_for(db_engine))
    b = persisted({"c": two}, store_for(db_engine))
    await a.start()
    await b.start()
    sent = [note(f"n{i}") for i in range(30)]
    for i, n in enumerate(sent):
        (a if i % 2 else b).notify(n)
    assert await a.join(20) and await b.join(20)
    await a.aclose()
    await b.aclose()
    delivered = [n.id for n in one.sent + two.sent]
    assert sorted(delivered) == sorted(n.id for n in sent)
    assert {r.state for r in await rows(db_engine)} == {"SENT"}


async def test_an_expired_claim_is_taken_over(db_engine: Any) -> None:
    store = store_for(db_engine, lease=0.05)
    await store.add([(note(), "c")])
    [claimed] = await store.claim(10, {"c"})
    assert await store.claim(10, {"c"}) == []  # held by the (dead) first claimer
    await asyncio.sleep(0.1)
    [again] = await store.claim(10, {"c"})
    assert again.row_id == claimed.row_id


async def test_the_outbox_write_is_retried_when_the_database_fails(db_engine: Any) -> None:
    class Flaky(OutboxStore):
        failures = 2

        async def add(self, items: list[tuple[Notification, str]]) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("database unreachable")
            await super().add(items)

    channel = Recorder()
    dispatcher = persisted({"c": channel}, Flaky(session_factory(db_engine)))
    await dispatcher.start()
    assert dispatcher.notify(note())  # the caller sees nothing of the failure
    assert await dispatcher.join(15)
    await dispatcher.aclose()
    assert len(channel.sent) == 1
