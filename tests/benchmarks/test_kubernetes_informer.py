"""2,000 Kubernetes instances: warming the shared watch, and a state-sync pass.

Baseline (same run, same fake): one raw GET of every pod, decoded with ``json``. Measured:
time until the informer's cache is warm (a list of services and one of pods, then the
watches), a pass from the warm cache (``cached_instances``) and an authoritative pass
(``list_instances``), with the API calls each makes; neither makes one call per instance.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from visa_kubernetes import objects as o
from visa_kubernetes.backend import KubernetesBackend
from visa_platform.compute import BackendConfig
from visa_platform.testing.fake_kubernetes import FakeKubernetes

INSTANCES = 2_000


def seed(cluster: FakeKubernetes) -> None:
    """Services and running pods as the backend would have created them."""
    for n in range(INSTANCES):
        instance_id = f"bench-{n:05d}"
        annotations = {o.NAME: f"VISA-INSTANCE-{n}", o.POWER: "on", o.GENERATION: "1"}
        cluster.put(
            "services",
            "visa",
            {
                "metadata": {
                    "name": instance_id,
                    "labels": o.labels(instance_id),
                    "annotations": annotations,
                },
                "spec": {"selector": {o.INSTANCE: instance_id}, "ports": [{"port": 3389}]},
            },
        )
        cluster.put(
            "pods",
            "visa",
            {
                "metadata": {
                    "name": f"{instance_id}-1",
                    "labels": o.labels(instance_id),
                    "annotations": {o.GENERATION: "1"},
                },
                "spec": {"containers": [{"name": "instance", "image": "visa/desktop:1"}]},
                "status": {
                    "phase": "Running",
                    "podIP": "127.0.0.1",
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            },
        )


@pytest.mark.bench
async def test_two_thousand_instances() -> None:
    async with FakeKubernetes() as cluster:
        seed(cluster)
        config = BackendConfig(
            cloud_id=None,
            name="bench",
            type="kubernetes",
            parameters={"server": cluster.url, "namespace": "visa"},
            read_timeout=60,
        )
        backend = KubernetesBackend(config)
        await backend.limits()  # the client's one-time set-up, outside the measurement

        async with httpx.AsyncClient(timeout=60) as http:
            start = time.perf_counter()
            response = await http.get(f"{cluster.url}/api/v1/namespaces/visa/pods")
            assert len(response.json()["items"]) == INSTANCES
            baseline = time.perf_counter() - start

        before = len(cluster.requests)
        start = time.perf_counter()
        informer = await backend.informer()
        await informer.wait_synced(120)
        warm = time.perf_counter() - start
        for _ in range(1000):  # both watches connected: count their requests too
            if cluster.open_watches == 2:
                break
            await asyncio.sleep(0.01)
        warm_calls = len(cluster.requests) - before

        before = len(cluster.requests)
        start = time.perf_counter()
        cached = await backend.cached_instances()
        cached_pass = time.perf_counter() - start
        cached_calls = len(cluster.requests) - before

        before = len(cluster.requests)
        start = time.perf_counter()
        listed = await backend.list_instances()
        listed_pass = time.perf_counter() - start
        listed_calls = len(cluster.requests) - before
        await backend.close()

    assert len(cached) == len(listed) == INSTANCES
    assert {i.state.value for i in listed} == {"ACTIVE"}
    assert cached_calls == 0 and listed_calls == 2
    print(
        f"\n{INSTANCES} instances: raw pod list {baseline:.3f}s; "
        f"informer warm {warm:.3f}s ({warm / baseline:.1f}x raw, {warm_calls} calls with watches); "
        f"cached pass {cached_pass:.4f}s ({cached_pass / baseline:.2f}x raw, "
        f"{cached_calls} calls); "
        f"list pass {listed_pass:.3f}s ({listed_pass / baseline:.1f}x raw, {listed_calls} calls)"
    )
