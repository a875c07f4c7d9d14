"""The Redis broker against the real Redis: two brokers on one channel are two replicas."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from visa_platform.config import ConfigError, load_settings
from visa_platform.events.broker import (
    EVERYONE,
    Audience,
    Event,
    LocalBroker,
    open_broker,
    to_users,
)
from visa_platform.events.redis_broker import GATEWAY_EVENT, RedisBroker
from visa_platform.testing.redis_server import fresh_channel, needs_redis, redis_url
from visa_platform.testing.waits import eventually

pytestmark = needs_redis()


@pytest.fixture
def channel() -> str:
    return fresh_channel()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url())
    yield client
    await client.aclose()


@pytest.fixture
async def replicas(channel: str) -> AsyncIterator[Callable[..., Awaitable[RedisBroker]]]:
    made: list[RedisBroker] = []

    async def make(**options: Any) -> RedisBroker:
        options.setdefault("retry_delay", 0.2)
        broker = RedisBroker(redis_url(), channel, **options)
        made.append(broker)
        await broker.start()
        assert broker.subscribed.is_set()
        return broker

    yield make
    for broker in made:
        await broker.aclose()


def recorder(broker: RedisBroker, message_type: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    async def handler(payload: dict[str, Any]) -> None:
        got.append(payload)

    broker.listen(message_type, handler)
    return got


async def test_a_message_reaches_every_replica_sender_included_in_order(
    replicas: Callable[..., Awaitable[RedisBroker]], redis: Redis, channel: str
) -> None:
    a, b = await replicas(), await replicas()
    on_a, on_b = recorder(a, "Hello"), recorder(b, "Hello")
    other = recorder(b, "Other")
    raw = redis.pubsub()
    await raw.subscribe(channel)
    await raw.get_message(timeout=1)  # the subscribe confirmation
    for n in range(20):
        await a.broadcast("Hello", {"n": n, "who": "a"})
    await eventually(lambda: len(on_a) == 20 and len(on_b) == 20)
    assert [p["n"] for p in on_a] == list(range(20)) == [p["n"] for p in on_b]
    assert other == []
    # the wire format: one channel, {"type", "payload"}
    first = await raw.get_message(timeout=1)
    assert first is not None
    assert json.loads(first["data"]) == {"type": "Hello", "payload": {"n": 0, "who": "a"}}
    await raw.aclose()


async def test_gateway_events_reach_the_matching_subscribers_of_every_replica(
    replicas: Callable[..., Awaitable[RedisBroker]],
) -> None:
    a, b = await replicas(), await replicas()
    async with (
        b.subscribe("u1", "c1", frozenset({"ADMIN"})) as ada,
        a.subscribe("u2", "c2", frozenset()) as alan,
    ):
        await a.publish(Event("to:user", to_users("u1"), {"x": 1}))
        await a.publish(Event("to:client", Audience(client_ids=frozenset({"c2"}))))
        await a.publish(Event("to:role", Audience(roles=frozenset({"ADMIN"})), [1, 2]))
        await b.publish(Event("to:all", EVERYONE, "hi"))
        await a.publish(Event("to:nobody", to_users("u9")))
        got_ada = [await asyncio.wait_for(ada.queue.get(), 5) for _ in range(3)]
        got_alan = [await asyncio.wait_for(alan.queue.get(), 5) for _ in range(2)]
        assert [(e.type, e.data) for e in got_ada] == [
            ("to:user", {"x": 1}),
            ("to:role", [1, 2]),
            ("to:all", "hi"),
        ]
        assert [(e.type, e.data) for e in got_alan] == [("to:client", None), ("to:all", "hi")]
        await asyncio.sleep(0.2)
        assert ada.queue.empty() and alan.queue.empty()


async def test_a_failing_publish_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    broker = RedisBroker("redis://127.0.0.1:1/0", fresh_channel(), publish_timeout=2)
    try:
        with caplog.at_level(logging.ERROR, "visa_platform.events"):
            await broker.broadcast("Hello", {"n": 1})
            await broker.publish(Event("to:all", EVERYONE))
        assert caplog.text.count("event=broker_publish_failed") == 2
    finally:
        await broker.aclose()


async def test_the_subscription_comes_back_after_the_connection_is_killed(
    replicas: Callable[..., Awaitable[RedisBroker]], redis: Redis
) -> None:
    a, b = await replicas(health_monitor=False), await replicas(health_monitor=False)
    on_a = recorder(a, "Hello")
    clients = await redis.client_list()
    mine = [c for c in clients if c.get("name") == a.client_name]
    assert mine, "the broker's connections carry its name"
    for client in mine:
        await redis.execute_command("CLIENT", "KILL", "ID", client["id"])
    # messages sent while the subscription is down are lost (pub/sub): send until one arrives
    n = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not on_a:
        assert loop.time() < deadline, "replica a never subscribed again"
        n += 1
        await b.broadcast("Hello", {"n": n})
        await asyncio.sleep(0.1)
    before = len(on_a)
    await b.broadcast("Hello", {"n": -1})
    await eventually(lambda: len(on_a) > before)
    assert on_a[-1] == {"n": -1}
    # a's own publishing connection came back too
    on_b = recorder(b, "FromA")
    await a.broadcast("FromA", {})
    await eventually(lambda: on_b == [{}])


async def test_the_health_monitor_resubscribes_when_its_ping_is_lost(
    replicas: Callable[..., Awaitable[RedisBroker]], caplog: pytest.LogCaptureFixture
) -> None:
    a = await replicas(ping_interval=0.1, ping_timeout=0.5)
    await asyncio.sleep(0.5)
    assert a.subscriptions == 1  # pings come back: nothing to do
    # a subscription that silently receives nothing: the pings go where nobody listens
    a.heartbeat_channel = a.heartbeat_channel + "-elsewhere"
    with caplog.at_level(logging.WARNING, "visa_platform.events"):
        await eventually(lambda: a.subscriptions >= 2)
    assert "event=broker_heartbeat_lost" in caplog.text
    # subscribed again (to the new heartbeat channel): pings come back, no more resubscribing
    await asyncio.sleep(1.0)
    settled = a.subscriptions
    await asyncio.sleep(1.0)
    assert a.subscriptions == settled
    on_a = recorder(a, "Hello")
    await a.broadcast("Hello", {})
    await eventually(lambda: on_a == [{}])


async def test_bad_messages_and_failing_handlers_do_not_stop_the_others(
    replicas: Callable[..., Awaitable[RedisBroker]],
    redis: Redis,
    channel: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a = await replicas()

    async def boom(payload: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    a.listen("Hello", boom)
    on_a = recorder(a, "Hello")
    with caplog.at_level(logging.WARNING, "visa_platform.events"):
        for garbage in (
            b"not json",
            b"[1]",
            b'{"payload": {}}',
            b'{"type": "Hello", "payload": 3}',
        ):
            await redis.publish(channel, garbage)
        await redis.publish(channel, json.dumps({"type": GATEWAY_EVENT, "payload": {"x": 1}}))
        await a.broadcast("Hello", {"ok": True})
        await eventually(lambda: on_a == [{"ok": True}])
    assert caplog.text.count("event=broker_bad_message") == 5
    assert "event=broker_handler_failed" in caplog.text


async def test_the_settings_choose_the_broker() -> None:
    local = await open_broker(load_settings(vdi_redis_enabled=False))
    assert type(local) is LocalBroker
    with pytest.raises(ConfigError, match="VISA_VDI_REDIS_URL"):
        await open_broker(load_settings(vdi_redis_enabled=True))
    channel = fresh_channel()
    broker = await open_broker(
        load_settings(vdi_redis_enabled=True, vdi_redis_url=redis_url(), vdi_redis_channel=channel)
    )
    try:
        assert isinstance(broker, RedisBroker) and broker.channel == channel
        got = recorder(broker, "Hello")
        await broker.broadcast("Hello", {})
        await eventually(lambda: got == [{}])
    finally:
        await broker.aclose()


async def test_the_local_broker_runs_handlers_before_broadcast_returns() -> None:
    broker = LocalBroker()
    got: list[dict[str, Any]] = []

    async def handler(payload: dict[str, Any]) -> None:
        got.append(payload)

    unlisten = broker.listen("Hello", handler)
    await broker.broadcast("Hello", {"n": 1})
    assert got == [{"n": 1}]
    unlisten()
    await broker.broadcast("Hello", {"n": 2})
    assert got == [{"n": 1}]


async def test_exclusive_sections_do_not_overlap_across_replicas(
    replicas: Callable[..., Awaitable[RedisBroker]], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = await replicas(), await replicas()
    inside: list[str] = []
    overlaps = 0

    async def section(broker: RedisBroker, who: str) -> None:
        nonlocal overlaps
        async with broker.exclusive("desk:1"):
            overlaps += bool(inside)
            inside.append(who)
            await asyncio.sleep(0.05)
            inside.remove(who)

    await asyncio.gather(*(section(broker, f"{n}") for n, broker in enumerate([a, b] * 4)))
    assert overlaps == 0
    async with a.exclusive("desk:2"), b.exclusive("desk:3"):  # other names do not wait
        pass
    # without Redis the section still runs (logged): a lost lock must not stop a desktop
    down = RedisBroker("redis://127.0.0.1:1/0", fresh_channel())
    ran = False
    with caplog.at_level(logging.ERROR, "visa_platform.events"):
        async with down.exclusive("desk:1"):
            ran = True
    await down.aclose()
    assert ran and "event=broker_lock_failed" in caplog.text
