"""One shared watch of a namespace's VISA services and pods: an informer (KubeSpawner's reflectors).

Each kind is listed once, then watched from the list's ``resourceVersion``; events keep a dict
cache up to date. A watch that ends (server timeout, dropped connection) is re-opened from the
last version seen; a 410 Expired answer (history compacted) leads to a fresh list. Errors back
off exponentially up to ``max_backoff`` seconds. A state-sync pass then reads the cache: no API
call per instance, and none at all once warm.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from visa_platform.compute import CloudInstance, CloudUnavailableError

log = logging.getLogger("visa_kubernetes.informer")


class _Expired(Exception):
    """The watch's resource version is too old: list again."""


class Reflector:
    """List-then-watch of one kind into ``store`` (name -> object)."""

    def __init__(
        self,
        kind: str,
        method: Callable[..., Awaitable[Any]],
        namespace: str,
        selector: str,
        *,
        timeout: float,
        watch_seconds: int,
        max_backoff: float,
    ) -> None:
        self.kind = kind
        self.method = method
        self.namespace = namespace
        self.selector = selector
        self.timeout = timeout
        self.watch_seconds = watch_seconds
        self.max_backoff = max_backoff
        self.store: dict[str, dict[str, Any]] = {}
        self.synced = asyncio.Event()
        self.resource_version: str | None = None
        #: how many lists, watch connections and events (for tests and benchmarks)
        self.lists = 0
        self.watches = 0
        self.events = 0
        self.errors = 0

    async def run(self) -> None:
        backoff = 0.05
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                await self._watch()
                backoff = 0.05
            except _Expired:
                log.info("kubernetes watch expired kind=%s: listing again", self.kind)
                self.resource_version = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.errors += 1
                log.warning("kubernetes watch failed kind=%s error=%r", self.kind, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _list(self) -> None:
        async with asyncio.timeout(self.timeout):
            response = await self.method(
                self.namespace, label_selector=self.selector, _request_timeout=self.timeout
            )
            try:
                body = await response.read()
            finally:
                response.release()
        if response.status >= 400:
            raise RuntimeError(f"list {self.kind}: HTTP {response.status}")
        decoded = json.loads(body)
        self.store = {item["metadata"]["name"]: item for item in decoded["items"]}
        self.resource_version = decoded["metadata"]["resourceVersion"]
        self.lists += 1
        self.synced.set()

    async def _watch(self) -> None:
        # the server ends the watch after watch_seconds; the client gives it a margin
        timeout = self.watch_seconds + self.timeout
        response = await self.method(
            self.namespace,
            label_selector=self.selector,
            watch=True,
            resource_version=self.resource_version,
            timeout_seconds=self.watch_seconds,
            allow_watch_bookmarks=True,
            _request_timeout=timeout,
        )
        self.watches += 1
        try:
            if response.status == 410:
                raise _Expired
            if response.status >= 400:
                raise RuntimeError(f"watch {self.kind}: HTTP {response.status}")
            async for line in response.content:
                if line.strip():
                    self._apply(json.loads(line))
        finally:
            response.release()

    def _apply(self, event: dict[str, Any]) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired
            raise RuntimeError(f"watch {self.kind}: {obj.get('message')}")
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind in ("ADDED", "MODIFIED"):
            self.store[obj["metadata"]["name"]] = obj
        elif kind == "DELETED":
            self.store.pop(obj["metadata"]["name"], None)
        if version:
            self.resource_version = version
        self.events += 1


class Informer:
    """Reflectors for the services and the pods of one namespace, and the joined instances."""

    def __init__(
        self,
        core: Any,
        namespace: str,
        selector: str,
        *,
        address_source: str,
        timeout: float,
        watch_seconds: int = 300,
        max_backoff: float = 5.0,
    ) -> None:
        options = {"timeout": timeout, "watch_seconds": watch_seconds, "max_backoff": max_backoff}
        self.services = Reflector(
            "services",
            core.list_namespaced_service_without_preload_content,
            namespace,
            selector,
            **options,  # type: ignore[arg-type]
        )
        self.pods = Reflector(
            "pods",
            core.list_namespaced_pod_without_preload_content,
            namespace,
            selector,
            **options,  # type: ignore[arg-type]
        )
        self.address_source = address_source
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.get_running_loop().create_task(r.run(), name=f"k8s-reflector-{r.kind}")
                for r in (self.services, self.pods)
            ]

    @property
    def is_synced(self) -> bool:
        return self.services.synced.is_set() and self.pods.synced.is_set()

    async def wait_synced(self, within: float) -> None:
        """Wait for the first list of both kinds; ``CloudUnavailableError`` after ``within`` s."""
        try:
            async with asyncio.timeout(within):
                await self.services.synced.wait()
                await self.pods.synced.wait()
        except TimeoutError as exc:
            raise CloudUnavailableError("the kubernetes watch is not synced") from exc

    def instances(self) -> list[CloudInstance]:
        """Every instance as the cache knows it."""
        from visa_kubernetes.backend import join

        return join(
            list(self.services.store.values()), list(self.pods.store.values()), self.address_source
        )

    def instance(self, instance_id: str) -> CloudInstance | None:
        from visa_kubernetes import objects

        service = self.services.store.get(instance_id)
        if service is None:
            return None
        pods = [
            p
            for p in self.pods.store.values()
            if (p["metadata"].get("labels") or {}).get(objects.INSTANCE) == instance_id
        ]
        return objects.to_instance(service, pods, self.address_source)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


__all__ = ["Informer", "Reflector"]
