"""Waiting in tests for something that happens in the background (another task, replica or
process), without fixed sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(check: Callable[[], bool], within: float = 5.0, every: float = 0.02) -> None:
    """Return once ``check()`` is true (asked every ``every`` s); AssertionError after
    ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(every)


__all__ = ["eventually"]
