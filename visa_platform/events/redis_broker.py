"""The broker of several replicas: one Redis pub/sub channel (spec desktop-security-cloud.md §5.1).

Every gateway event and every message is published as UTF-8 JSON
``{"type": "<message type>", "payload": {...}}`` on one channel (``VISA_VDI_REDIS_CHANNEL``,
default ``VISA_MESSAGE_BROKER``) and reaches every replica, the sender included, in the order
Redis received them. Gateway events travel as the type :data:`GATEWAY_EVENT`.

* Publishing never raises: a failure (Redis down, timeout) is logged and the message is lost,
  as with VISA's fire-and-forget publisher.
* One task reads the subscription and queues what arrives; another handles it in order, so a
  slow handler never makes Redis drop the subscriber. When the connection drops the reader
  subscribes again every ``retry_delay`` seconds until it succeeds (messages published in
  between are lost: pub/sub keeps nothing).
* The health monitor (``VISA_VDI_REDIS_HEALTH_MONITOR_ENABLED``) publishes ``ping`` on this
  replica's own heartbeat channel ``<channel>_HEARTBEAT_<uuid>`` 10 s after the previous pong;
  when it does not come back within 5 s, the reader subscribes again from scratch (a connection
  that looks alive but receives nothing).

Redis pub/sub ignores the database number: deployments sharing one Redis need their own channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from visa_platform.api.json import encode
from visa_platform.events.broker import Audience, Event, LocalBroker

log = logging.getLogger("visa_platform.events")

#: The message type of gateway events (spec's EventFor{Client,User,Role}Message and
#: BroadcastEventMessage in one: the payload carries the whole audience).
GATEWAY_EVENT = "GatewayEvent"
DEFAULT_CHANNEL = "VISA_MESSAGE_BROKER"
PING = "ping"


def event_payload(event: Event) -> dict[str, Any]:
    """``{"event": {"type", "data"}, "everyone", "userIds", "roles", "clientIds"}``."""
    audience = event.audience
    return {
        "event": {"type": event.type, "data": event.data},
        "everyone": audience.everyone,
        "userIds": sorted(audience.user_ids),
        "roles": sorted(audience.roles),
        "clientIds": sorted(audience.client_ids),
    }


def event_of(payload: dict[str, Any]) -> Event:
    """The event of :func:`event_payload` (``KeyError``/``TypeError`` when malformed)."""
    body = payload["event"]
    audience = Audience(
        everyone=bool(payload.get("everyone")),
        user_ids=frozenset(map(str, payload.get("userIds") or ())),
        roles=frozenset(map(str, payload.get("roles") or ())),
        client_ids=frozenset(map(str, payload.get("clientIds") or ())),
    )
    return Event(str(body["type"]), audience, body.get("data"))


def envelope(message_type: str, payload: Any) -> str:
    return json.dumps({"type": message_type, "payload": payload}, default=encode)


class RedisBroker(LocalBroker):
    """:class:`LocalBroker` for this replica's subscribers and handlers, fed by Redis."""

    def __init__(
        self,
        url: str,
        channel: str = DEFAULT_CHANNEL,
        *,
        tls_trust_all: bool = False,
        health_monitor: bool = True,
        retry_delay: float = 5.0,
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        publish_timeout: float = 5.0,
        lock_timeout: float = 30.0,
        client_name: str | None = None,
    ) -> None:
        super().__init__()
        self.channel = channel
        self.heartbeat_channel = f"{channel}_HEARTBEAT_{uuid.uuid4()}"
        self.retry_delay = retry_delay
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.publish_timeout = publish_timeout
        self.lock_timeout = lock_timeout
        self._health_monitor = health_monitor
        #: The name of this replica's Redis connections (``CLIENT LIST``).
        self.client_name = client_name or f"visa-{uuid.uuid4().hex[:12]}"
        options: dict[str, Any] = {"socket_connect_timeout": 5.0, "client_name": self.client_name}
        if url.startswith("rediss://") and tls_trust_all:
            options.update(ssl_cert_reqs="none", ssl_check_hostname=False)
        self._redis: Redis = Redis.from_url(url, **options)
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        #: Set while the subscription is up (cleared when the connection drops).
        self.subscribed = asyncio.Event()
        self._pong = asyncio.Event()
        self._resubscribe = False
        #: How many times the channel was subscribed (1 + the resubscriptions).
        self.subscriptions = 0

    async def start(self, wait: float = 5.0) -> None:
        """Start reading; wait up to ``wait`` s for the subscription (retried in the background
        when Redis cannot be reached yet)."""
        self._tasks = [
            asyncio.ensure_future(self._read()),
            asyncio.ensure_future(self._handle()),
        ]
        if self._health_monitor:
            self._tasks.append(asyncio.ensure_future(self._monitor()))
        try:
            await asyncio.wait_for(self.subscribed.wait(), wait)
        except TimeoutError:
            log.error("event=broker_not_subscribed channel=%s", self.channel)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        with contextlib.suppress(Exception):
            await self._redis.aclose()
        await super().aclose()

    # -- sending ----------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        await self._send(self.channel, envelope(GATEWAY_EVENT, event_payload(event)))

    async def broadcast(self, message_type: str, payload: dict[str, Any]) -> None:
        await self._send(self.channel, envelope(message_type, payload))

    async def _send(self, channel: str, body: str) -> bool:
        try:
            await asyncio.wait_for(self._redis.publish(channel, body), self.publish_timeout)
        except Exception as exc:
            log.error("event=broker_publish_failed channel=%s error=%r", channel, exc)
            return False
        return True

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """A Redis lock ``<channel>:lock:<name>`` (it expires after ``lock_timeout`` s, so a
        replica that dies holding it does not block the others for longer)."""
        lock = self._redis.lock(
            f"{self.channel}:lock:{name}",
            timeout=self.lock_timeout,
            sleep=0.02,
            blocking_timeout=self.lock_timeout,
            thread_local=False,
        )
        try:
            held = bool(await lock.acquire())
        except Exception as exc:
            log.error("event=broker_lock_failed name=%s error=%r", name, exc)
            held = False
        else:
            if not held:
                log.warning("event=broker_lock_timeout name=%s", name)
        try:
            yield
        finally:
            if held:
                try:
                    await lock.release()
                except Exception as exc:  # expired meanwhile, or Redis gone
                    log.warning("event=broker_lock_release_failed name=%s error=%r", name, exc)

    # -- receiving --------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            pubsub: PubSub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel, self.heartbeat_channel)
                self.subscriptions += 1
                self._resubscribe = False
                self.subscribed.set()
                log.info("event=broker_subscribed channel=%s", self.channel)
                while not self._resubscribe:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if message is not None:
                        self._received(message)
                log.warning("event=broker_resubscribe channel=%s reason=no_pong", self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.subscribed.clear()
                log.error(
                    "event=broker_subscription_lost channel=%s error=%r retry_in=%s",
                    self.channel,
                    exc,
                    self.retry_delay,
                )
                await asyncio.sleep(self.retry_delay)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]

    def _received(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        data = message.get("data")
        try:
            body = json.loads(data) if isinstance(data, bytes | str) else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            log.warning("event=broker_bad_message channel=%s", channel)
            return
        if channel == self.heartbeat_channel:
            if body.get("payload") == PING:
                self._pong.set()
            return
        self._inbox.put_nowait((body["type"], body.get("payload")))

    async def _handle(self) -> None:
        while True:
            message_type, payload = await self._inbox.get()
            if not isinstance(payload, dict):
                log.warning("event=broker_bad_message type=%s", message_type)
                continue
            if message_type == GATEWAY_EVENT:
                try:
                    event = event_of(payload)
                except (KeyError, TypeError, AttributeError):
                    log.warning("event=broker_bad_message type=%s", message_type)
                    continue
                self.deliver(event)
            else:
                await self.dispatch(message_type, payload)

    async def _monitor(self) -> None:
        """Ping our own heartbeat channel; resubscribe when the ping does not come back."""
        while True:
            await self.subscribed.wait()
            await asyncio.sleep(self.ping_interval)
            if not self.subscribed.is_set():
                continue
            self._pong.clear()
            if not await self._send(self.heartbeat_channel, envelope("String", PING)):
                continue  # the reader notices a dead connection by itself
            try:
                await asyncio.wait_for(self._pong.wait(), self.ping_timeout)
            except TimeoutError:
                log.warning("event=broker_heartbeat_lost channel=%s", self.heartbeat_channel)
                self._resubscribe = True


async def open_redis_broker(settings: Any) -> RedisBroker:
    """The started broker of the VISA_VDI_REDIS_* settings (``ConfigError`` without a URL)."""
    from visa_platform.config import ConfigError

    url = settings.redis_connection_url()
    if url is None:
        raise ConfigError("VISA_VDI_REDIS_URL: required when VISA_VDI_REDIS_ENABLED=true")
    broker = RedisBroker(
        url,
        settings.vdi_redis_channel,
        tls_trust_all=settings.vdi_redis_tls_trust_all,
        health_monitor=settings.vdi_redis_health_monitor_enabled,
    )
    await broker.start()
    return broker


__all__ = [
    "DEFAULT_CHANNEL",
    "GATEWAY_EVENT",
    "RedisBroker",
    "event_of",
    "event_payload",
    "open_redis_broker",
]
