"""What resolvers receive as ``ctx``: the caller, the request's database session and batch loaders.

One ``AsyncSession`` cannot run two statements at once, while tartiflette resolves sibling fields
concurrently: every database access goes through :meth:`GraphQLContext.read` (or
:meth:`GraphQLContext.write` in mutations), which serialise on one lock. Nested fields of lists
(an instance's owner, a member's user ...) go through :class:`BatchLoader` so that a page of 50
instances costs a fixed number of statements, not one per row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.domain.principal import Principal
from visa_platform.events.broker import Event
from visa_platform.runtime import Runtime

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

Fetch = Callable[[AsyncSession, list[K]], Awaitable[dict[K, V]]]


@dataclass
class GraphQLContext:
    """Per request: the admin calling, the session (serialised), loaders, events to publish."""

    session: AsyncSession
    principal: Principal
    runtime: Runtime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaders: dict[str, BatchLoader[Any, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    async def read(self, fetch: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """``await fetch(session, *args, **kwargs)`` with the session to itself."""
        async with self.lock:
            return await fetch(self.session, *args, **kwargs)

    async def write(self, change: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run a service change and commit it (rolled back when it raises); events published
        after the commit only."""
        async with self.lock:
            try:
                result = await change(self.session, *args, **kwargs)
                await self.session.commit()
            except BaseException:
                await self.session.rollback()
                self.events.clear()
                raise
            events, self.events = self.events, []
        for event in events:
            await self.runtime.broker.publish(event)
        return result

    def loader(
        self,
        name: str,
        fetch: Callable[[AsyncSession, list[Any]], Awaitable[dict[Any, Any]]],
        default: Any,
    ) -> BatchLoader[Any, Any]:
        """The request's loader called ``name`` (created on first use)."""
        found = self.loaders.get(name)
        if found is None:
            found = BatchLoader(self, fetch, default)
            self.loaders[name] = found
        return found


class BatchLoader(Generic[K, V]):
    """Collects the keys asked for in one round of concurrent resolvers and fetches them at once.

    Values are cached for the request; ``default`` answers keys the fetch did not return.
    """

    def __init__(self, ctx: GraphQLContext, fetch: Fetch[K, V], default: V) -> None:
        self._ctx = ctx
        self._fetch = fetch
        self._default = default
        self._futures: dict[K, asyncio.Future[V]] = {}
        self._pending: list[K] = []
        self._task: asyncio.Task[None] | None = None

    async def load(self, key: K) -> V:
        future = self._futures.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._futures[key] = future
            self._pending.append(key)
            if self._task is None:
                self._task = asyncio.ensure_future(self._dispatch())
        return await future

    def prime(self, key: K, value: V) -> None:
        """Remember a value loaded by other means (a page of rows) so that it is not fetched."""
        if key not in self._futures:
            future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
            future.set_result(value)
            self._futures[key] = future

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        return list(await asyncio.gather(*(self.load(k) for k in keys)))

    async def _dispatch(self) -> None:
        # let every sibling resolver of this round ask for its key first
        for _ in range(3):
            await asyncio.sleep(0)
        keys, self._pending, self._task = self._pending, [], None
        try:
            found = await self._ctx.read(self._fetch, keys)
        except BaseException as exc:
            for key in keys:
                future = self._futures.pop(key)
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for key in keys:
            future = self._futures[key]
            if not future.done():
                future.set_result(found.get(key, self._default))
