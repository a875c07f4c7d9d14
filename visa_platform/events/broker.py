"""The event broker: services publish, gateway connections subscribe, replicas coordinate.

Two kinds of traffic go through a broker (spec desktop-security-cloud.md §5):

* gateway events (:meth:`Broker.publish`): each replica delivers them to its own gateway
  subscribers whose user, client id or role matches the event's :class:`Audience`;
* messages (:meth:`Broker.broadcast`): ``(type, payload)`` with a JSON-serialisable payload,
  given to every handler registered with :meth:`Broker.listen` for that type, on every replica
  (the sender included). Handlers apply a message to their replica's local state only.

:class:`LocalBroker` dispatches in process (one server). :class:`~visa_platform.events.
redis_broker.RedisBroker` does the same for several replicas through one Redis pub/sub channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("visa_platform.events")

QUEUE_SIZE = 256


@dataclass(frozen=True)
class Audience:
    """Who receives an event: everyone, or some users, roles or clients (any match)."""

    everyone: bool = False
    user_ids: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    client_ids: frozenset[str] = frozenset()


EVERYONE = Audience(everyone=True)


def to_users(*user_ids: str) -> Audience:
    return Audience(user_ids=frozenset(user_ids))


def to_role(role: str) -> Audience:
    return Audience(roles=frozenset({role}))


@dataclass(frozen=True)
class Event:
    """``{"type": ..., "data": ...}`` as the gateway sends it (``data`` omitted when None)."""

    type: str
    audience: Audience
    data: Any = None


@dataclass(eq=False)
class Subscriber:
    """One gateway connection: its user, client id and roles, and its queue of events."""

    user_id: str
    client_id: str
    roles: frozenset[str]
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def wants(self, event: Event) -> bool:
        audience = event.audience
        return (
            audience.everyone
            or self.user_id in audience.user_ids
            or self.client_id in audience.client_ids
            or bool(self.roles & audience.roles)
        )


MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]
"""``await handler(payload)`` for one broadcast message (its payload as decoded JSON)."""


class Broker(Protocol):
    async def publish(self, event: Event) -> None:
        """Deliver a gateway event to the matching subscribers of every replica."""

    def subscribe(
        self, user_id: str, client_id: str, roles: frozenset[str]
    ) -> AbstractAsyncContextManager[Subscriber]:
        """A gateway connection of this replica, receiving the events that concern it."""

    async def broadcast(self, message_type: str, payload: dict[str, Any]) -> None:
        """Give ``payload`` to the ``message_type`` handlers of every replica (sender included).

        Never raises for a delivery problem: failures are logged."""

    def listen(self, message_type: str, handler: MessageHandler) -> Callable[[], None]:
        """Register a handler on this replica; returns the function that unregisters it."""

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Hold the lock ``name`` against the other replicas while inside.

        Only between replicas: tasks of one process serialise among themselves first (an
        ``asyncio.Lock``). If the lock cannot be had (Redis unreachable, held past its
        expiry), the block runs anyway after logging: a missed lock must not stop a desktop."""

    async def aclose(self) -> None: ...


class LocalBroker:
    """In-process broker. A slow client loses its oldest events rather than blocking others.

    Messages are handled in the caller's task, one handler after the other, before
    :meth:`broadcast` returns; a failing handler is logged and does not stop the others.
    """

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._handlers: dict[str, list[MessageHandler]] = {}

    def listen(self, message_type: str, handler: MessageHandler) -> Callable[[], None]:
        handlers = self._handlers.setdefault(message_type, [])
        handlers.append(handler)

        def unlisten() -> None:
            if handler in handlers:
                handlers.remove(handler)

        return unlisten

    async def broadcast(self, message_type: str, payload: dict[str, Any]) -> None:
        await self.dispatch(message_type, payload)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """One process: nothing to hold against anybody."""
        yield

    async def dispatch(self, message_type: str, payload: dict[str, Any]) -> None:
        """Run this replica's handlers of one message."""
        for handler in list(self._handlers.get(message_type, ())):
            try:
                await handler(payload)
            except Exception:
                log.exception("event=broker_handler_failed type=%s", message_type)

    async def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """Queue a gateway event for this replica's matching subscribers."""
        for subscriber in list(self._subscribers):
            if not subscriber.wants(event):
                continue
            if subscriber.queue.full():
                subscriber.queue.get_nowait()
                log.warning("event=gateway_queue_full client=%s", subscriber.client_id)
            subscriber.queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(
        self, user_id: str, client_id: str, roles: frozenset[str]
    ) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(user_id, client_id, roles)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def aclose(self) -> None:
        self._subscribers.clear()
        self._handlers.clear()


async def open_broker(settings: Any) -> Broker:
    """The broker the settings ask for: Redis when VISA_VDI_REDIS_ENABLED, else in process."""
    if not settings.vdi_redis_enabled:
        return LocalBroker()
    try:
        from visa_platform.events.redis_broker import open_redis_broker
    except ImportError as exc:  # the optional dependency
        from visa_platform.config import ConfigError

        raise ConfigError(
            f"VISA_VDI_REDIS_ENABLED: needs the redis package (pip install "
            f"'visa-platform[redis]'): {exc}"
        ) from exc
    return await open_redis_broker(settings)


__all__ = [
    "EVERYONE",
    "Audience",
    "Broker",
    "Event",
    "LocalBroker",
    "MessageHandler",
    "Subscriber",
    "open_broker",
]
