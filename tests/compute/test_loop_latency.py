"""A slow cloud call never blocks the event loop: the loop keeps ticking on time meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from visa_openstack import OpenStackBackend
from visa_platform.compute import BackendConfig
from visa_platform.testing.fake_openstack import FakeOpenStack
from visa_platform.testing.fake_webcloud import FakeWebCloud
from visa_webcloud import WebCloudBackend

TICK = 0.01


async def worst_tick_delay(work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(worst lateness of a 10 ms ticker, duration of ``work``) while ``work`` runs."""
    worst = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(TICK)
            worst = max(worst, time.monotonic() - before - TICK)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    try:
        await work()
    finally:
        duration = time.monotonic() - started
        stop.set()
        await task
    return worst, duration


async def test_the_measure_detects_a_blocked_loop() -> None:
    async def blocking() -> None:
        time.sleep(0.3)  # noqa: ASYNC251 - deliberately blocks the loop

    worst, _ = await worst_tick_delay(blocking)
    assert worst >= 0.25


async def test_openstack_call_leaves_the_loop_free() -> None:
    async with FakeOpenStack() as cloud:
        config = BackendConfig(
            cloud_id=None, name="slow", type="openstack", parameters=cloud.parameters()
        )
        backend = OpenStackBackend.from_config(config)
        cloud.add_servers(300)
        await backend.limits()  # authenticate first; the slow part is the listing
        cloud.faults.set_latency(1.0, match="/servers")
        worst, duration = await worst_tick_delay(backend.list_instances)
        await backend.close()
    assert duration >= 1.0
    assert worst < 0.15, f"event loop blocked for {worst:.3f} s during a slow cloud call"


async def test_web_provider_call_leaves_the_loop_free() -> None:
    async with FakeWebCloud() as cloud:
        config = BackendConfig(
            cloud_id=None, name="slow", type="web", parameters=cloud.parameters()
        )
        backend = WebCloudBackend.from_config(config)
        cloud.faults.set_latency(1.0)
        worst, duration = await worst_tick_delay(backend.list_instances)
        await backend.close()
    assert duration >= 1.0
    assert worst < 0.15, f"event loop blocked for {worst:.3f} s during a slow cloud call"
