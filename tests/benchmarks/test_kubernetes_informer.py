"""2,000 Kubernetes instances: warming the shared watch, and a state-sync pass.

Baseline (same run, same fake): one raw GET of every pod, decoded with ``json``. Measured:
time until the informer's cache is warm (a list of services and one of pods, then the
watches), a pass from the warm cache (``cached_instances``) and an authoritative pass
(``list_instances``), with the API calls each makes; neither makes one call per instance.
Then the engine's whole state-sync pass over 2,000 instance rows on that cluster (database
pages, cache read, port checks, bulk updates): its time and API calls.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_kubernetes import objects as o
from visa_kubernetes.backend import KubernetesBackend
from visa_platform.compute import BackendConfig, CloudClients
from visa_platform.config import Settings
from visa_platform.db.engine import session_factory
from visa_platform.db.models import Flavour, Image, Instance, InstanceMember, Plan, Protocol, User
from visa_platform.db.seed import seed_fixtures
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceMemberRole, InstanceState
from visa_platform.events.broker import LocalBroker
from visa_platform.plugin import PluginHost
from visa_platform.services.instance_actions import EngineContext
from visa_platform.services.instance_states import sync_states
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


async def raw_pod_list(cluster: FakeKubernetes) -> float:
    """The baseline: seconds for one raw GET of every pod, decoded with ``json``."""
    async with httpx.AsyncClient(timeout=60) as http:
        start = time.perf_counter()
        response = await http.get(f"{cluster.url}/api/v1/namespaces/visa/pods")
        assert len(response.json()["items"]) == INSTANCES
        return time.perf_counter() - start


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

        baseline = await raw_pod_list(cluster)

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


async def instance_rows(sessions: Any) -> None:
    """2,000 STARTING instances of one user, each pointing at a seeded service."""
    async with sessions() as session:
        await seed_fixtures(session)
        guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
        image = Image(name="Desktop", icon="d.png", compute_id="desktop", visible=True)
        image.protocols = [guacd]
        flavour = Flavour(name="Small", cpu=1, memory=1024, compute_id="small")
        plan = Plan(image=image, flavour=flavour, preset=True)
        session.add_all([plan, User(id="1001", first_name="Ada", last_name="Lovelace")])
        await session.flush()
        now = utcnow()
        await session.execute(
            insert(Instance),
            [
                {
                    "id": n + 1,
                    "uid": f"u{n:07d}",
                    "name": f"desktop {n}",
                    "plan_id": plan.id,
                    "state": InstanceState.STARTING,
                    "screen_width": 1280,
                    "screen_height": 1024,
                    "keyboard_layout": "en-gb-qwerty",
                    "last_seen_at": now,
                    "compute_id": f"bench-{n:05d}",
                }
                for n in range(INSTANCES)
            ],
        )
        await session.execute(
            insert(InstanceMember),
            [
                {"instance_id": n + 1, "user_id": "1001", "role": InstanceMemberRole.OWNER}
                for n in range(INSTANCES)
            ],
        )
        await session.commit()


@pytest.mark.bench
async def test_state_sync_pass_over_two_thousand_instances(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    sessions = session_factory(db_engine)
    await instance_rows(sessions)
    host = PluginHost()
    host.load_entry_points(allow=["kubernetes"])
    clouds = CloudClients(host.compute_backends)

    async def desktop_port_open(host: str, port: int, seconds: float) -> bool:
        return True

    async with FakeKubernetes() as cluster:
        seed(cluster)
        baseline = await raw_pod_list(cluster)
        clouds.add(
            BackendConfig(
                cloud_id=None,
                name="bench",
                type="kubernetes",
                parameters={"server": cluster.url, "namespace": "visa"},
                read_timeout=60,
            )
        )
        ctx = EngineContext(
            sessions=sessions,
            clouds=clouds,
            plugins=PluginHost(),
            broker=LocalBroker(),
            settings=settings,
            probe=desktop_port_open,
        )
        start = time.perf_counter()
        first = await sync_states(ctx)  # starts the watch, waits for its cache, moves states
        first_pass = time.perf_counter() - start
        for _ in range(1000):
            if cluster.open_watches == 2:
                break
            await asyncio.sleep(0.01)
        before = len(cluster.requests)
        start = time.perf_counter()
        second = await sync_states(ctx)  # the steady state: nothing changed
        second_pass = time.perf_counter() - start
        calls = len(cluster.requests) - before
        await clouds.close()

    assert first.instances == second.instances == INSTANCES
    assert first.changed == INSTANCES and second.changed == 0
    assert calls == 0, "a state-sync pass on a warm cache makes no API call"
    print(
        f"\nstate sync over {INSTANCES} Kubernetes instances ({db_engine.dialect.name}): "
        f"raw pod list {baseline:.3f}s; first pass {first_pass:.3f}s "
        f"({first_pass / baseline:.1f}x raw: watch started and warmed, {INSTANCES} updated); "
        f"steady pass {second_pass:.3f}s ({second_pass / baseline:.1f}x raw, {calls} API calls)"
    )
