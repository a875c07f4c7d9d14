"""The Kubernetes backend: objects it creates, configuration, error mapping and the shared watch."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes_rig import QUOTA, config, objects, parameters

from visa_kubernetes import objects as o
from visa_kubernetes.backend import KubernetesBackend
from visa_kubernetes.plugin import build_kubernetes_backend
from visa_platform.compute import (
    CloudAuthenticationError,
    CloudConfigurationError,
    CloudNotFoundError,
    CloudRejectedError,
    CloudUnavailableError,
    InstanceRequest,
)
from visa_platform.domain.enums import CloudInstanceState as S
from visa_platform.plugin import PluginHost
from visa_platform.testing.compute_contract import poll_state
from visa_platform.testing.fake_kubernetes import FakeKubernetes
from visa_platform.testing.waits import eventually

REQUEST = InstanceRequest(
    name="VISA-INSTANCE-42",
    image_id="desktop",
    flavour_id="gpu",
    security_groups=("visa-rdp",),
    metadata={"id": "42", "owner": "bob"},
)


def test_the_entry_point_registers_kubernetes() -> None:
    host = PluginHost()
    host.load_entry_points(allow=["kubernetes"])
    assert host.compute_backends.get("kubernetes").plugin == "kubernetes"


def test_without_the_extra_the_message_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes.aio", None)
    with pytest.raises(CloudConfigurationError, match=r"visa-platform\[kubernetes\]"):
        build_kubernetes_backend(config({"server": "http://127.0.0.1:1"}))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"images": "not json"}, "images: not JSON"),
        ({"flavours": '[{"id": "x"}]'}, "flavours: .* needs id, cpus and ram"),
        ({"images": '[{"id": "a", "image": "i", "pullPolicy": "Sometimes"}]'}, "pullPolicy"),
        ({"namespace": "Bad_NS"}, "namespace"),
        ({"ports": "rdp:99999"}, "ports"),
        ({"address": "node"}, "address"),
        ({"authentication": "token", "server": ""}, "server is required"),
    ],
)
def test_configuration_errors(extra: dict[str, str], message: str) -> None:
    params = {"server": "http://127.0.0.1:1", **extra}
    with pytest.raises(CloudConfigurationError, match=message):
        KubernetesBackend(config({k: v for k, v in params.items() if v}))


async def test_in_cluster_outside_a_cluster_is_a_configuration_error() -> None:
    backend = KubernetesBackend(config({"authentication": "in-cluster"}))
    with pytest.raises(CloudConfigurationError, match="in-cluster"):
        await backend.list_instances()
    await backend.close()


async def test_kubeconfig_authentication(cluster: FakeKubernetes, tmp_path: Path) -> None:
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": cluster.url}}],
        "users": [{"name": "visa", "user": {"token": "from-kubeconfig"}}],
        "contexts": [{"name": "visa", "context": {"cluster": "fake", "user": "visa"}}],
        "current-context": "visa",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(kubeconfig))
    params = {**parameters(cluster), "kubeconfig": str(path), "context": "visa"}
    del params["server"], params["token"]
    backend = KubernetesBackend(config(params))
    assert backend.settings.authentication == "kubeconfig"
    assert await backend.list_instances() == []
    assert cluster.requests[-1].headers["authorization"] == "Bearer from-kubeconfig"
    await backend.close()


async def test_the_objects_of_an_instance(cluster: FakeKubernetes) -> None:
    backend = KubernetesBackend(
        config(parameters(cluster, homeVolumeSize="5Gi", homeStorageClass="fast"))
    )
    created = await backend.create_instance(REQUEST)
    assert created.state is S.BUILDING
    assert created.id.startswith("visa-instance-42-")
    [pod] = objects(cluster, "pods")
    container = pod["spec"]["containers"][0]
    assert container["image"] == "visa/desktop:1"
    assert container["imagePullPolicy"] == "Always"
    assert container["resources"]["limits"] == {
        "cpu": "8000m",
        "memory": "32768Mi",
        "nvidia.com/gpu": "1",
    }
    assert container["envFrom"][0]["secretRef"]["name"] == created.id
    assert pod["metadata"]["labels"][o.INSTANCE] == created.id
    assert pod["metadata"]["labels"]["security-group.visa-platform.io/visa-rdp"] == "true"
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == f"{created.id}-home"
    [service] = objects(cluster, "services")
    assert service["spec"]["selector"] == {o.INSTANCE: created.id}
    assert [p["port"] for p in service["spec"]["ports"]] == [3389, 8888]
    [secret] = objects(cluster, "secrets")
    assert base64.b64decode(secret["data"]["owner"]) == b"bob"
    [claim] = objects(cluster, "persistentvolumeclaims")
    assert claim["spec"]["storageClassName"] == "fast"
    active = await poll_state(backend, created.id, {S.ACTIVE}, 5)
    assert active.metadata == {"id": "42", "owner": "bob"}
    assert active.flavour_id == "gpu" and active.name == "VISA-INSTANCE-42"

    await backend.shutdown_instance(created.id)
    await poll_state(backend, created.id, {S.STOPPED}, 5)
    assert objects(cluster, "persistentvolumeclaims"), "the home volume survives a shutdown"
    await backend.delete_instance(created.id)
    await eventually(
        lambda: (
            not any(
                objects(cluster, kind)
                for kind in ("pods", "services", "secrets", "persistentvolumeclaims")
            )
        )
    )
    await backend.close()


async def test_a_failed_create_leaves_nothing(cluster: FakeKubernetes) -> None:
    backend = KubernetesBackend(config(parameters(cluster)))
    cluster.faults.fail_next(500, match="/pods")  # the service and secret exist by then
    with pytest.raises(CloudUnavailableError):
        await backend.create_instance(REQUEST)
    assert objects(cluster, "services") == [] and objects(cluster, "secrets") == []
    await backend.close()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, CloudAuthenticationError),
        (403, CloudAuthenticationError),
        (404, CloudNotFoundError),
        (409, CloudRejectedError),
        (422, CloudRejectedError),
        (500, CloudUnavailableError),
        (503, CloudUnavailableError),
    ],
)
async def test_api_errors(
    cluster: FakeKubernetes, backend: KubernetesBackend, status: int, error: type[Exception]
) -> None:
    cluster.faults.fail_next(status, match="/services")
    with pytest.raises(error) as caught:
        await backend.list_instances()
    assert caught.value.user_message  # type: ignore[attr-defined]
    assert "injected" in str(caught.value)


async def test_exceeded_quota_is_a_refusal(cluster: FakeKubernetes) -> None:
    backend = KubernetesBackend(config(parameters(cluster)))
    for n in range(int(QUOTA["pods"])):
        await backend.create_instance(
            InstanceRequest(name=f"q{n}", image_id="desktop", flavour_id="small")
        )
    with pytest.raises(CloudRejectedError) as caught:
        await backend.create_instance(REQUEST)
    assert "quota" in caught.value.user_message
    limits = await backend.limits()
    assert limits is not None
    assert (limits.max_total_instances, limits.total_instances_used) == (20, 20)
    assert (limits.max_total_cores, limits.total_cores_used) == (32, 40)
    await backend.close()


async def test_a_conflicting_name_is_a_refusal(
    cluster: FakeKubernetes, backend: KubernetesBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(o, "instance_id_for", lambda name: "fixed-id")
    await backend.create_instance(REQUEST)
    with pytest.raises(CloudRejectedError) as caught:
        await backend.create_instance(REQUEST)
    assert caught.value.status == 409
    assert len(objects(cluster, "services")) == 1, "the first instance's objects are kept"


async def test_listing_makes_two_calls_whatever_the_number(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    for n in range(5):
        await backend.create_instance(
            InstanceRequest(name=f"n{n}", image_id="desktop", flavour_id="small")
        )
    before = len(cluster.requests)
    assert len(await backend.list_instances()) == 5
    assert len(cluster.requests) - before == 2


async def test_security_groups_label_the_pod(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    created = await backend.create_instance(REQUEST)
    await backend.update_security_groups(created.id, ["visa-ssh"])
    [pod] = objects(cluster, "pods")
    group_labels = {k for k in pod["metadata"]["labels"] if k.startswith("security-group.")}
    assert group_labels == {"security-group.visa-platform.io/visa-ssh"}
    with pytest.raises(CloudRejectedError):
        await backend.add_security_group(created.id, "bad group/name")


def _pod(phase: str, *, ready: bool = False, waiting: str | None = None, gen: str = "1") -> Any:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "metadata": {"name": f"i-{gen}", "annotations": {o.GENERATION: gen}},
        "status": {
            "phase": phase,
            "podIP": "10.0.0.5",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"state": state}],
        },
    }


def _service(power: str = "on", action: str = "create") -> Any:
    return {"metadata": {"name": "i", "annotations": {o.POWER: power, o.ACTION: action}}}


@pytest.mark.parametrize(
    ("service", "pods", "state"),
    [
        (_service(), [_pod("Pending")], S.BUILDING),
        (_service(action="start"), [_pod("Pending")], S.STARTING),
        (_service(action="reboot"), [_pod("Running")], S.REBOOTING),
        (_service(), [_pod("Running", ready=True)], S.ACTIVE),
        (_service(), [_pod("Pending", waiting="ErrImagePull")], S.ERROR),
        (_service(), [_pod("Running", waiting="CrashLoopBackOff")], S.ERROR),
        (_service(), [_pod("Failed")], S.ERROR),
        (_service(), [_pod("Succeeded")], S.STOPPED),
        (_service(), [_pod("Unknown")], S.UNKNOWN),
        (_service(), [], S.STOPPED),
        (_service("off"), [_pod("Running", ready=True)], S.STOPPING),
        (_service("off"), [], S.STOPPED),
        (_service(), [_pod("Running", ready=True, gen="1"), _pod("Pending", gen="2")], S.BUILDING),
    ],
)
def test_state_mapping(service: Any, pods: list[Any], state: S) -> None:
    assert o.cloud_state(service, pods)[0] is state


def test_address_from_pod_or_service() -> None:
    service = {**_service(), "spec": {"clusterIP": "10.96.0.7"}}
    pods = [_pod("Running", ready=True)]
    assert o.to_instance(service, pods, "pod").address == "10.0.0.5"
    assert o.to_instance(service, pods, "service").address == "10.96.0.7"
    failed = o.to_instance(service, [_pod("Pending", waiting="ImagePullBackOff")], "pod")
    assert failed.fault is not None and failed.fault.message == "ImagePullBackOff"


# -- the shared watch -------------------------------------------------------------------------


async def test_the_informer_follows_changes_without_polling(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    created = await backend.create_instance(REQUEST)
    informer = await backend.informer()
    await informer.wait_synced(5)
    await eventually(lambda: getattr(informer.instance(created.id), "state", None) is S.ACTIVE)
    before = len(cluster.requests)
    assert [i.id for i in await backend.cached_instances()] == [created.id]
    assert len(cluster.requests) == before, "a warm cache makes no API call"
    await backend.delete_instance(created.id)
    await eventually(lambda: informer.instance(created.id) is None)


async def test_the_informer_reconnects_after_a_dropped_stream(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    informer = await backend.informer()
    await informer.wait_synced(5)
    await eventually(lambda: cluster.open_watches == 2)
    cluster.drop_watches()
    created = await backend.create_instance(REQUEST)  # while the watches reconnect
    await eventually(lambda: informer.instance(created.id) is not None)
    assert informer.pods.watches >= 2 and informer.pods.lists == 1
    await eventually(lambda: getattr(informer.instance(created.id), "state", None) is S.ACTIVE)


async def test_the_informer_lists_again_when_its_version_expired(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    informer = await backend.informer()
    await informer.wait_synced(5)
    await eventually(lambda: cluster.open_watches == 2)
    created = await backend.create_instance(REQUEST)
    await eventually(lambda: informer.instance(created.id) is not None)
    cluster.compact()
    cluster.drop_watches()
    await eventually(lambda: informer.services.lists >= 2 and informer.pods.lists >= 2)
    assert informer.instance(created.id) is not None


async def test_the_informer_survives_server_errors(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    cluster.faults.fail_next(503, count=2, match="/pods")
    informer = await backend.informer()
    await informer.wait_synced(5)
    assert informer.pods.errors >= 1


async def test_a_slow_api_server_leaves_the_loop_free(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    await backend.list_instances()  # the client's one-time set-up
    cluster.faults.set_latency(1.0)
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            worst = max(worst, time.monotonic() - before - 0.01)

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    await backend.list_instances()
    duration = time.monotonic() - started
    done.set()
    await task
    assert duration >= 1.0
    assert worst < 0.15, f"event loop blocked for {worst:.3f} s"


async def test_a_hung_api_server_times_out(
    cluster: FakeKubernetes, backend: KubernetesBackend
) -> None:
    await backend.list_instances()
    cluster.faults.hang_next(match="/services")
    started = time.monotonic()
    with pytest.raises(CloudUnavailableError, match="timed out"):
        await backend.list_instances()
    assert time.monotonic() - started < backend.call_timeout + 1
