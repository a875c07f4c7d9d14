"""Cost of dispatching an event through the plugin host, against calling the same functions."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from visa_platform.plugin import PluginHost, hookimpl
from visa_platform.plugin.types import InstanceEvent

PLUGINS = 10
EVENTS = 2_000

EVENT = InstanceEvent(
    instance_id=1,
    uid="abcd1234",
    name="bench",
    state="ACTIVE",
    owner_id="1",
    plan_id=1,
    compute_id=None,
    occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
)


class Counter:
    def __init__(self) -> None:
        self.count = 0

    @hookimpl
    async def visa_instance_created(self, event: InstanceEvent) -> None:
        self.count += 1


@pytest.mark.bench
async def test_event_dispatch_overhead() -> None:
    counters = [Counter() for _ in range(PLUGINS)]
    host = PluginHost()
    for i, counter in enumerate(counters):
        host.register(counter, f"counter{i}")

    async def direct(event: Any) -> None:
        for counter in counters:
            await counter.visa_instance_created(event)

    start = time.perf_counter()
    for _ in range(EVENTS):
        await direct(EVENT)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(EVENTS):
        await host.instance_created(EVENT)
    hosted = time.perf_counter() - start

    ratio = hosted / baseline
    per_event_us = hosted / EVENTS * 1e6
    print(
        f"\nevent dispatch to {PLUGINS} async plugins: {ratio:.2f}x direct calls "
        f"({per_event_us:.1f} us per event through the host)"
    )
    assert all(c.count == 2 * EVENTS for c in counters)
    assert ratio < 20, f"hook dispatch is {ratio:.1f}x direct calls"
