"""Admin views of the clouds: cached briefly, one failing cloud never fails the others."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from visa_platform.compute import BackendConfig, CloudClients, CloudConfigurationError
from visa_platform.plugin.registry import Registry, RegistryEntry
from visa_platform.services.clouds import CloudViews
from visa_platform.testing.fake_webcloud import FakeWebCloud
from visa_webcloud import WebCloudBackend


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def clouds() -> AsyncIterator[tuple[FakeWebCloud, FakeWebCloud, CloudClients]]:
    registry = Registry("compute backend")
    registry.commit([RegistryEntry("web", WebCloudBackend.from_config, "test")])
    async with FakeWebCloud() as good, FakeWebCloud() as bad:
        clients = CloudClients(registry)
        for cloud_id, cloud in [(None, good), (5, bad)]:
            clients.add(
                BackendConfig(
                    cloud_id=cloud_id,
                    name=f"cloud-{cloud_id}",
                    type="web",
                    parameters=cloud.parameters(),
                    connect_timeout=1,
                    read_timeout=1,
                )
            )
        yield good, bad, clients
        await clients.close()


async def test_overview_isolates_failures(
    clouds: tuple[FakeWebCloud, FakeWebCloud, CloudClients],
) -> None:
    _good, bad, clients = clouds
    bad.faults.fail_next(503, count=10)
    views = await CloudViews(clients).overview()
    default, other = views
    assert (default.cloud_id, default.name, default.failures) == (None, "cloud-None", [])
    assert default.images is not None and [i.id for i in default.images] == ["100", "101"]
    assert default.flavours is not None and default.security_groups is not None
    assert default.limits is not None and default.limits.max_total_cores == 64
    assert other.cloud_id == 5
    assert (other.images, other.flavours, other.security_groups, other.limits) == (
        None,
        None,
        None,
        None,
    )
    assert sorted(f.kind for f in other.failures) == [
        "flavours",
        "images",
        "limits",
        "security_groups",
    ]
    assert all(f.retryable and "try again later" in f.message for f in other.failures)
    assert all("503" in f.detail for f in other.failures)


async def test_hung_cloud_is_bounded(
    clouds: tuple[FakeWebCloud, FakeWebCloud, CloudClients],
) -> None:
    _good, bad, clients = clouds
    bad.faults.hang_next(count=1, match="/api/images")
    started = time.monotonic()
    views = await CloudViews(clients, call_timeout=0.5).overview(["images"])
    assert time.monotonic() - started < 1.5
    assert views[0].images is not None
    assert views[1].failures[0].kind == "images"


async def test_answers_are_cached_briefly(
    clouds: tuple[FakeWebCloud, FakeWebCloud, CloudClients],
) -> None:
    good, _, clients = clouds
    clock = Clock()
    views = CloudViews(clients, ttl=30, clock=clock)
    await views.images()
    await views.images(-1)
    assert good.count("GET", "/api/images") == 1
    clock.now += 31
    await views.images()
    assert good.count("GET", "/api/images") == 2
    views.invalidate(None)
    await views.images()
    assert good.count("GET", "/api/images") == 3


async def test_failures_are_not_cached(
    clouds: tuple[FakeWebCloud, FakeWebCloud, CloudClients],
) -> None:
    good, _, clients = clouds
    views = CloudViews(clients)
    good.faults.fail_next(500, match="/api/flavours")
    (view,) = [v for v in await views.overview(["flavours"]) if v.cloud_id is None]
    assert view.failures and view.flavours is None
    assert [f.id for f in await views.flavours()] == ["small", "large"]


async def test_concurrent_requests_share_one_call(
    clouds: tuple[FakeWebCloud, FakeWebCloud, CloudClients],
) -> None:
    good, _, clients = clouds
    good.faults.set_latency(0.2, match="/api/security_groups")
    views = CloudViews(clients)
    results = await asyncio.gather(*(views.security_groups() for _ in range(5)))
    assert all(r == ["default", "visa-rdp", "visa-ssh"] for r in results)
    assert good.count("GET", "/api/security_groups") == 1


async def test_unknown_cloud_and_kind(
    clouds: tuple[FakeWebCloud, FakeWebCloud, CloudClients],
) -> None:
    _, _, clients = clouds
    views = CloudViews(clients)
    with pytest.raises(CloudConfigurationError):
        await views.images(99)
    with pytest.raises(ValueError, match="unknown cloud views"):
        await views.overview(["servers"])  # type: ignore[list-item]
