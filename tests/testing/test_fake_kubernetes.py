"""The fake Kubernetes API server answers the official asyncio client as a real one would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from kubernetes.aio import client as k8s
from kubernetes.aio import watch as k8s_watch

from visa_platform.testing.fake_kubernetes import (
    FakeKubernetes,
    matches_fields,
    matches_labels,
    parse_quantity,
)


def pod(name: str, image: str = "visa/desktop:1", **labels: str) -> k8s.V1Pod:
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name=name, labels=labels or None),
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(
                    name="c",
                    image=image,
                    resources=k8s.V1ResourceRequirements(requests={"cpu": "500m", "memory": "1Gi"}),
                )
            ]
        ),
    )


@pytest.fixture
async def cluster() -> AsyncIterator[FakeKubernetes]:
    async with FakeKubernetes(
        quota={"pods": "3", "requests.cpu": "4", "requests.memory": "8Gi"},
        kubelet_seconds=0.05,
        termination_seconds=0.05,
    ) as fake:
        yield fake


@pytest.fixture
async def core(cluster: FakeKubernetes) -> AsyncIterator[k8s.CoreV1Api]:
    async with k8s.ApiClient(k8s.Configuration(host=cluster.url)) as api:
        yield k8s.CoreV1Api(api)


async def wait_for_phase(core: k8s.CoreV1Api, name: str, phase: str) -> k8s.V1Pod:
    for _ in range(100):
        current = await core.read_namespaced_pod(name, "visa")
        if current.status.phase == phase:
            return current
        await asyncio.sleep(0.02)
    raise AssertionError(f"pod {name} never {phase}")


def test_selectors_and_quantities() -> None:
    labels = {"app": "visa", "tier": "desktop"}
    assert matches_labels(labels, "app=visa,tier in (desktop, jupyter)")
    assert matches_labels(labels, "app==visa,!missing,tier")
    assert not matches_labels(labels, "tier notin (desktop)")
    assert not matches_labels(labels, "app!=visa")
    obj = {"metadata": {"name": "a"}, "status": {"phase": "Running"}}
    assert matches_fields(obj, "metadata.name=a,status.phase!=Failed")
    assert not matches_fields(obj, "status.phase=Pending")
    assert parse_quantity("500m") == Decimal("0.5")
    assert parse_quantity("2Gi") == 2 * 2**30
    with pytest.raises(ValueError):
        parse_quantity("lots")


async def test_version_and_discovery(cluster: FakeKubernetes) -> None:
    async with k8s.ApiClient(k8s.Configuration(host=cluster.url)) as api:
        version = await k8s.VersionApi(api).get_code()
        assert version.git_version == "v1.30.0-fake"
        groups = await k8s.ApisApi(api).get_api_versions()
        assert [g.name for g in groups.groups] == ["networking.k8s.io"]


async def test_pod_life_with_the_kubelet(cluster: FakeKubernetes, core: k8s.CoreV1Api) -> None:
    created = await core.create_namespaced_pod("visa", pod("p1", app="visa"))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.status.phase == "Pending"
    running = await wait_for_phase(core, "p1", "Running")
    assert running.status.pod_ip == "127.0.0.1"
    assert {c.type for c in running.status.conditions if c.status == "True"} >= {"Ready"}
    assert running.status.container_statuses[0].state.running is not None
    await core.delete_namespaced_pod("p1", "visa")
    terminating = await core.read_namespaced_pod("p1", "visa")
    assert terminating.metadata.deletion_timestamp is not None
    for _ in range(100):
        if ("pods", "visa", "p1") not in cluster.objects:
            break
        await asyncio.sleep(0.02)
    with pytest.raises(k8s.ApiException) as caught:
        await core.read_namespaced_pod("p1", "visa")
    assert caught.value.status == 404


async def test_failing_pods(cluster: FakeKubernetes, core: k8s.CoreV1Api) -> None:
    cluster.failing_images.add("visa/broken:1")
    await core.create_namespaced_pod("visa", pod("bad", image="visa/broken:1"))
    for _ in range(100):
        status = (await core.read_namespaced_pod("bad", "visa")).status
        if status.container_statuses:
            break
        await asyncio.sleep(0.02)
    assert status.phase == "Pending"
    assert status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"


async def test_errors_are_status_objects(cluster: FakeKubernetes, core: k8s.CoreV1Api) -> None:
    await core.create_namespaced_pod("visa", pod("dup"))
    with pytest.raises(k8s.ApiException) as conflict:
        await core.create_namespaced_pod("visa", pod("dup"))
    assert conflict.value.status == 409
    assert json.loads(conflict.value.body)["reason"] == "AlreadyExists"
    with pytest.raises(k8s.ApiException) as invalid:
        await core.create_namespaced_pod("visa", pod("Not_Valid"))
    assert invalid.value.status == 422
    with pytest.raises(k8s.ApiException) as missing_ns:
        await core.create_namespaced_pod("nowhere", pod("x"))
    assert missing_ns.value.status == 404
    cluster.faults.fail_next(403)
    with pytest.raises(k8s.ApiException) as forbidden:
        await core.list_namespaced_pod("visa")
    assert json.loads(forbidden.value.body)["reason"] == "Forbidden"


async def test_quota_usage_and_enforcement(core: k8s.CoreV1Api) -> None:
    for name in ("q1", "q2", "q3"):
        await core.create_namespaced_pod("visa", pod(name))
    with pytest.raises(k8s.ApiException) as caught:
        await core.create_namespaced_pod("visa", pod("q4"))
    assert caught.value.status == 403 and "exceeded quota" in caught.value.body
    quota = (await core.list_namespaced_resource_quota("visa")).items[0]
    assert quota.status.used["pods"] == "3"
    assert quota.status.used["requests.cpu"] == "1500m"
    assert quota.status.hard["requests.memory"] == "8Gi"


async def test_labels_patch_services_and_secrets(core: k8s.CoreV1Api) -> None:
    await core.create_namespaced_pod("visa", pod("a", app="visa"))
    await core.create_namespaced_pod("visa", pod("b", app="other"))
    listed = await core.list_namespaced_pod("visa", label_selector="app=visa")
    assert [p.metadata.name for p in listed.items] == ["a"]
    await core.patch_namespaced_pod("a", "visa", {"metadata": {"labels": {"app": None, "x": "1"}}})
    patched = await core.read_namespaced_pod("a", "visa")
    assert patched.metadata.labels == {"x": "1"}
    service = k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="s"),
        spec=k8s.V1ServiceSpec(
            type="NodePort", selector={"x": "1"}, ports=[k8s.V1ServicePort(name="rdp", port=3389)]
        ),
    )
    created = await core.create_namespaced_service("visa", service)
    assert created.spec.cluster_ip.startswith("10.96.")
    assert created.spec.ports[0].node_port >= 30000
    secret = k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="env"), string_data={"owner": "bob"})
    stored = await core.create_namespaced_secret("visa", secret)
    assert stored.data == {"owner": "Ym9i"}
    assert stored.string_data is None


async def test_watch_streams_changes(cluster: FakeKubernetes, core: k8s.CoreV1Api) -> None:
    cluster.kubelet_seconds = 0.5
    await core.create_namespaced_pod("visa", pod("w1", app="visa"))
    seen: list[tuple[str, str]] = []
    watcher = k8s_watch.Watch()
    async with watcher.stream(
        core.list_namespaced_pod, "visa", label_selector="app=visa", timeout_seconds=5
    ) as stream:
        async for event in stream:
            seen.append((event["type"], event["object"].status.phase))
            if event["object"].status.phase == "Running":
                watcher.stop()
    assert seen[0] == ("ADDED", "Pending")
    assert seen[-1] == ("MODIFIED", "Running")


async def read_events(cluster: FakeKubernetes, query: str) -> list[dict[str, Any]]:
    async with (
        httpx.AsyncClient(base_url=cluster.url, timeout=5) as http,
        http.stream("GET", f"/api/v1/namespaces/visa/pods?watch=1&{query}") as response,
    ):
        return [json.loads(line) async for line in response.aiter_lines() if line]


async def test_watch_from_a_version_and_expiry(
    cluster: FakeKubernetes, core: k8s.CoreV1Api
) -> None:
    listed = await core.list_namespaced_pod("visa")
    since = listed.metadata.resource_version
    await core.create_namespaced_pod("visa", pod("v1"))
    events = await read_events(cluster, f"resourceVersion={since}&timeoutSeconds=0.3")
    assert [e["type"] for e in events][:1] == ["ADDED"]
    assert all(int(e["object"]["metadata"]["resourceVersion"]) > int(since) for e in events)
    cluster.compact()
    expired = await read_events(cluster, f"resourceVersion={since}&timeoutSeconds=1")
    assert [(e["type"], e["object"]["code"], e["object"]["reason"]) for e in expired] == [
        ("ERROR", 410, "Expired")
    ]


async def test_drop_watches_ends_the_streams(cluster: FakeKubernetes) -> None:
    task = asyncio.ensure_future(read_events(cluster, "timeoutSeconds=30"))
    for _ in range(100):
        if cluster.open_watches:
            break
        await asyncio.sleep(0.01)
    assert cluster.open_watches == 1
    cluster.drop_watches()
    await asyncio.wait_for(task, 5)
    assert cluster.open_watches == 0


async def test_network_policies(cluster: FakeKubernetes) -> None:
    async with k8s.ApiClient(k8s.Configuration(host=cluster.url)) as api:
        networking = k8s.NetworkingV1Api(api)
        policy = k8s.V1NetworkPolicy(
            metadata=k8s.V1ObjectMeta(name="rdp", labels={"group": "rdp"}),
            spec=k8s.V1NetworkPolicySpec(pod_selector=k8s.V1LabelSelector()),
        )
        await networking.create_namespaced_network_policy("visa", policy)
        listed = await networking.list_namespaced_network_policy("visa", label_selector="group")
        assert [p.metadata.name for p in listed.items] == ["rdp"]


async def test_namespace_delete_removes_its_objects(
    cluster: FakeKubernetes, core: k8s.CoreV1Api
) -> None:
    await core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="scratch")))
    await core.create_namespaced_config_map(
        "scratch", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="c"), data={"a": "b"})
    )
    await core.delete_namespace("scratch")
    assert cluster.objects_of("configmaps", "scratch") == []
    names = [n.metadata.name for n in (await core.list_namespace()).items]
    assert "scratch" not in names
