"""The event broker: services publish, gateway connections subscribe.

:class:`LocalBroker` dispatches in process (one server). A broker for several replicas (Redis
or PostgreSQL LISTEN/NOTIFY) implements the same :class:`Broker` protocol.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
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


class Broker(Protocol):
    async def publish(self, event: Event) -> None: ...

    def subscribe(
        self, user_id: str, client_id: str, roles: frozenset[str]
    ) -> AbstractAsyncContextManager[Subscriber]: ...

    async def aclose(self) -> None: ...


class LocalBroker:
    """In-process broker. A slow client loses its oldest events rather than blocking others."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()

    async def publish(self, event: Event) -> None:
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


__all__ = ["EVERYONE", "Audience", "Broker", "Event", "LocalBroker", "Subscriber"]
