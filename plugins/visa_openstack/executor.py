"""The bounded thread pool openstacksdk calls run in, and the deadline around each call.

openstacksdk blocks (requests + keystoneauth), so it never runs on the event loop. A dedicated
pool keeps slow clouds from starving other ``asyncio.to_thread`` users. The caller waits at most
``deadline`` seconds *without progress*: a paged listing calls :meth:`Progress.touch` after each
page, so a long listing that keeps moving completes while a stuck request fails in bounded time
(the stuck thread itself ends with its HTTP timeouts).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from visa_platform.compute import CloudUnavailableError

T = TypeVar("T")

MAX_WORKERS = 16
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """The process-wide pool of OpenStack calls (created on first use)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="visa-openstack")
        return _pool


class Progress:
    """Shared between a blocking call and its waiter: when the call last made progress."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()


def _forget(future: Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so an abandoned call's error is not reported as lost


async def run_blocking(function: Callable[[Progress], T], *, deadline: float, operation: str) -> T:
    """Run ``function(progress)`` in the pool; ``CloudUnavailableError`` after ``deadline``
    seconds without progress."""
    progress = Progress()
    future = pool().submit(function, progress)
    waiter = asyncio.wrap_future(future)
    while True:
        remaining = progress.last + deadline - time.monotonic()
        if remaining <= 0:
            future.add_done_callback(_forget)
            waiter.cancel()
            raise CloudUnavailableError(
                f"{operation}: no answer from the cloud within {deadline:g} s"
            )
        done, _ = await asyncio.wait({waiter}, timeout=remaining)
        if done:
            return waiter.result()
