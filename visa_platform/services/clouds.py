"""Admin views of the clouds: images, flavours, security groups and limits per cloud client.

Used by the admin GraphQL API. Answers are cached briefly per (cloud, kind) so that admin pages
do not hammer the clouds; concurrent requests for the same view share one cloud call; a failing
or slow cloud is reported in its own view and never fails the others. Failures are not cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from visa_platform.compute import (
    CloudClient,
    CloudClients,
    CloudError,
    CloudFlavour,
    CloudImage,
    CloudLimit,
    CloudUnavailableError,
)

ViewKind = Literal["images", "flavours", "security_groups", "limits"]
ALL_KINDS: tuple[ViewKind, ...] = ("images", "flavours", "security_groups", "limits")


@dataclass(frozen=True, kw_only=True)
class CloudFailure:
    """Why one view of one cloud is missing: a message for admins, and whether to retry."""

    kind: ViewKind
    message: str
    detail: str
    retryable: bool


@dataclass(frozen=True, kw_only=True)
class CloudView:
    """What an admin sees of one cloud; a view that failed is ``None`` with a failure."""

    cloud_id: int | None
    name: str
    type: str
    visible: bool
    images: list[CloudImage] | None = None
    flavours: list[CloudFlavour] | None = None
    security_groups: list[str] | None = None
    limits: CloudLimit | None = None
    failures: list[CloudFailure] = field(default_factory=list)


class CloudViews:
    """Cached, failure-isolated reads of every cloud client's catalogue.

    ``ttl`` is how long an answer is reused (seconds); ``call_timeout`` bounds each cloud call
    on top of the backend's own timeouts.
    """

    def __init__(
        self,
        clients: CloudClients,
        *,
        ttl: float = 30.0,
        call_timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = clients
        self.ttl = ttl
        self.call_timeout = call_timeout
        self._clock = clock
        self._cache: dict[tuple[int | None, ViewKind], tuple[float, Any]] = {}
        self._inflight: dict[tuple[int | None, ViewKind], asyncio.Future[Any]] = {}

    def invalidate(self, cloud_id: int | None = None, *, all_clouds: bool = False) -> None:
        """Forget cached answers of one cloud (``None`` = default), or of every cloud."""
        for key in list(self._cache):
            if all_clouds or key[0] == cloud_id:
                del self._cache[key]

    async def _fetch(self, client: CloudClient, kind: ViewKind) -> Any:
        backend = client.backend
        readers: dict[ViewKind, Callable[[], Awaitable[Any]]] = {
            "images": backend.images,
            "flavours": backend.flavours,
            "security_groups": backend.security_groups,
            "limits": backend.limits,
        }
        try:
            async with asyncio.timeout(self.call_timeout):
                return await readers[kind]()
        except TimeoutError:
            raise CloudUnavailableError(
                f"{kind} of cloud {client.name!r}: no answer within {self.call_timeout:g} s"
            ) from None

    async def view(self, cloud_id: int | None, kind: ViewKind) -> Any:
        """One view of one cloud, from the cache when fresh; raises ``CloudError``."""
        client = self.clients.require(cloud_id)
        key = (client.id, kind)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(client, kind))
            self._inflight[key] = pending

            def done(task: asyncio.Future[Any]) -> None:
                self._inflight.pop(key, None)
                if not task.cancelled() and task.exception() is None:
                    self._cache[key] = (self._clock() + self.ttl, task.result())

            pending.add_done_callback(done)
        return await asyncio.shield(pending)

    async def images(self, cloud_id: int | None = None) -> list[CloudImage]:
        result: list[CloudImage] = await self.view(cloud_id, "images")
        return result

    async def flavours(self, cloud_id: int | None = None) -> list[CloudFlavour]:
        result: list[CloudFlavour] = await self.view(cloud_id, "flavours")
        return result

    async def security_groups(self, cloud_id: int | None = None) -> list[str]:
        result: list[str] = await self.view(cloud_id, "security_groups")
        return result

    async def limits(self, cloud_id: int | None = None) -> CloudLimit | None:
        result: CloudLimit | None = await self.view(cloud_id, "limits")
        return result

    async def _cloud_view(self, client: CloudClient, kinds: Iterable[ViewKind]) -> CloudView:
        wanted = list(dict.fromkeys(kinds))
        results = await asyncio.gather(
            *(self.view(client.id, kind) for kind in wanted), return_exceptions=True
        )
        values: dict[str, Any] = {}
        failures = []
        for kind, result in zip(wanted, results, strict=True):
            if isinstance(result, CloudError):
                failures.append(
                    CloudFailure(
                        kind=kind,
                        message=result.user_message,
                        detail=str(result),
                        retryable=result.retryable,
                    )
                )
            elif isinstance(result, BaseException):
                raise result
            else:
                values[kind] = result
        return CloudView(
            cloud_id=client.id,
            name=client.name,
            type=client.type,
            visible=client.visible,
            failures=failures,
            **values,
        )

    async def overview(self, kinds: Iterable[ViewKind] = ALL_KINDS) -> list[CloudView]:
        """Every cloud client's views, fetched concurrently; default cloud first."""
        wanted = tuple(kinds)
        unknown = set(wanted) - set(ALL_KINDS)
        if unknown:
            raise ValueError(f"unknown cloud views: {sorted(unknown)}; use {list(ALL_KINDS)}")
        return list(
            await asyncio.gather(*(self._cloud_view(client, wanted) for client in self.clients))
        )


__all__ = ["ALL_KINDS", "CloudFailure", "CloudView", "CloudViews", "ViewKind"]
