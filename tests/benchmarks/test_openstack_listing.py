"""Listing 10,000 servers through the OpenStack backend, against one raw HTTP call.

Baseline (same run, same fake): one GET of every server in a single response (page size
raised to 10,000) decoded with ``json`` and mapped with the same state/address rules. The
backend pages at Nova's default 1,000 and goes through openstacksdk's session in a thread.
"""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest

from visa_openstack import OpenStackBackend
from visa_openstack.mapping import instance_from_json
from visa_platform.compute import BackendConfig
from visa_platform.testing.fake_openstack import FakeOpenStack

SERVERS = 10_000
PAGE = 1_000


@pytest.mark.bench
async def test_list_ten_thousand_servers() -> None:
    async with FakeOpenStack(page_size=PAGE) as cloud:
        cloud.limits["maxTotalInstances"] = SERVERS
        cloud.add_servers(SERVERS // 2, status="ACTIVE")
        cloud.add_servers(SERVERS // 4, status="SHUTOFF")
        cloud.add_servers(SERVERS // 4, status="ERROR")
        parameters = cloud.parameters()
        config = BackendConfig(cloud_id=None, name="bench", type="openstack", parameters=parameters)
        backend = OpenStackBackend.from_config(config)
        await backend.limits()  # authenticate and discover once, outside the measurement

        # Baseline: one call with everything in it.
        cloud.page_size = SERVERS
        token = next(iter(cloud.tokens))
        async with httpx.AsyncClient(timeout=60) as http:
            start = time.perf_counter()
            response = await http.get(
                f"{cloud.compute_endpoint}/v2.1/servers/detail",
                params={"limit": SERVERS},
                headers={"X-Auth-Token": token},
            )
            raw = [instance_from_json(s, "private") for s in response.json()["servers"]]
            baseline = time.perf_counter() - start
        assert len(raw) == SERVERS

        cloud.page_size = PAGE
        before = len(cloud.requests)
        start = time.perf_counter()
        listed = await backend.list_instances()
        paged = time.perf_counter() - start
        calls = len(cloud.requests) - before
        await backend.close()

    states = Counter(i.state.value for i in listed)
    assert len(listed) == SERVERS
    assert states == {"ACTIVE": 5000, "STOPPED": 2500, "ERROR": 2500}
    assert calls == SERVERS // PAGE
    ratio = paged / baseline
    print(
        f"\nlist {SERVERS} servers: backend {paged:.2f} s in {calls} HTTP calls "
        f"(pages of {PAGE}); single-call baseline {baseline:.2f} s in 1 call; "
        f"ratio {ratio:.2f}x; states {dict(states)}"
    )
    assert ratio < 5, f"paged listing is {ratio:.1f}x a single call"
