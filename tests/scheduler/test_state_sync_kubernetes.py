"""State sync over the Kubernetes backend reads the shared watch, not the API server (issue #9)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from engine_fixtures import Engine, make_instances
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_kubernetes.backend import KubernetesBackend
from visa_kubernetes.informer import Informer
from visa_platform.compute import (
    BackendConfig,
    CloudClients,
    CloudUnavailableError,
    InstanceRequest,
)
from visa_platform.db.models import Instance
from visa_platform.domain.enums import InstanceState
from visa_platform.plugin import PluginHost
from visa_platform.services.instance_states import sync_states
from visa_platform.testing.fake_kubernetes import FakeKubernetes
from visa_platform.testing.waits import eventually

PARAMETERS = {
    "token": "fake-token",
    "namespace": "visa",
    "images": json.dumps([{"id": "desktop", "name": "Desktop", "image": "visa/desktop:1"}]),
    "flavours": json.dumps([{"id": "small", "name": "Small", "cpus": 1, "ram": 1024}]),
    "ports": "guacd:4822",
}


@pytest.fixture
async def cluster() -> AsyncIterator[FakeKubernetes]:
    async with FakeKubernetes(kubelet_seconds=0.05, termination_seconds=0.05) as fake:
        yield fake


@pytest.fixture
async def kubernetes_engine(engine: Engine, cluster: FakeKubernetes) -> AsyncIterator[Engine]:
    """The engine with one cloud: the Kubernetes backend on the fake cluster."""
    host = PluginHost()
    host.load_entry_points(allow=["kubernetes"])
    clouds = CloudClients(host.compute_backends)
    clouds.add(
        BackendConfig(
            cloud_id=None,
            name="k8s",
            type="kubernetes",
            parameters={"server": cluster.url, **PARAMETERS},
            connect_timeout=2.0,
            read_timeout=2.0,
        )
    )
    engine.ctx.clouds = clouds
    yield engine
    await clouds.close()


def backend_of(engine: Engine) -> KubernetesBackend:
    backend = engine.ctx.clouds.default.backend  # type: ignore[union-attr]
    assert isinstance(backend, KubernetesBackend)
    return backend


async def servers_for(engine: Engine, session: AsyncSession, count: int) -> list[int]:
    """``count`` BUILDING instances, each with its pod created in the cluster."""
    backend = backend_of(engine)
    ids = await make_instances(session, count)
    for instance_id in ids:
        created = await backend.create_instance(
            InstanceRequest(name=f"T-{instance_id}", image_id="desktop", flavour_id="small")
        )
        await session.execute(
            update(Instance).where(Instance.id == instance_id).values(compute_id=created.id)
        )
    await session.commit()
    return ids


async def test_a_warm_pass_makes_no_api_call(
    kubernetes_engine: Engine, cluster: FakeKubernetes, db_session: AsyncSession
) -> None:
    engine = kubernetes_engine
    ids = await servers_for(engine, db_session, 3)
    informer = await backend_of(engine).informer()
    await informer.wait_synced(5)
    await eventually(lambda: all(getattr(i, "address", None) for i in informer.instances()))
    await eventually(lambda: cluster.open_watches == 2)

    before = len(cluster.requests)
    report = await sync_states(engine.ctx)
    assert len(cluster.requests) == before, "the pass read the watch's cache"
    assert report.instances == 3 and report.changed == 3
    for instance_id in ids:  # Running pods, no desktop port open: STARTING (spec §2.4)
        instance = await engine.instance(instance_id)
        assert instance.state is InstanceState.STARTING
        assert instance.ip_address

    await backend_of(engine).delete_instance((await engine.instance(ids[0])).compute_id or "")
    await eventually(lambda: len(informer.instances()) == 2)
    await sync_states(engine.ctx)
    assert (await engine.instance(ids[0])).state is InstanceState.DELETED


async def test_without_a_synced_watch_the_pass_lists_the_cluster(
    kubernetes_engine: Engine,
    cluster: FakeKubernetes,
    db_session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = kubernetes_engine
    ids = await servers_for(engine, db_session, 2)
    await eventually(
        lambda: all(p["status"].get("podIP") for p in cluster.objects_of("pods", "visa"))
    )

    async def never_synced(self: Informer, within: float) -> None:
        raise CloudUnavailableError("the kubernetes watch is not synced")

    monkeypatch.setattr(Informer, "wait_synced", never_synced)
    report = await sync_states(engine.ctx)  # the states come from an authoritative list
    assert report.cloud_errors == 0 and report.changed == 2
    assert {(await engine.instance(i)).state for i in ids} == {InstanceState.STARTING}
    assert "outcome=informer_not_synced fallback=list" in caplog.text
