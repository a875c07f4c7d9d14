"""The Kubernetes objects of an instance, and their state as a VISA cloud state. No I/O.

An instance ``<id>`` is a Service ``<id>`` (the anchor: it lives as long as the instance and
carries its name, image, flavour, metadata and power state as annotations), at most one live
Pod ``<id>-<generation>`` (a new generation on every start and reboot), a Secret ``<id>`` with
the instance metadata (given to the container as ``VISA_*`` environment variables) and, when
configured, a PersistentVolumeClaim ``<id>-home``. All carry the label ``visa-platform/instance``.
Objects are plain dicts, as the API sends them.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from visa_kubernetes.settings import FlavourSpec, ImageSpec, KubernetesSettings
from visa_platform.compute import CloudInstance, CloudInstanceFault
from visa_platform.domain.enums import CloudInstanceState as S

PREFIX = "visa-platform.io"
MANAGED = "app.kubernetes.io/managed-by"
MANAGED_SELECTOR = f"{MANAGED}=visa-platform"
INSTANCE = f"{PREFIX}/instance"
NAME = f"{PREFIX}/name"
IMAGE = f"{PREFIX}/image"
FLAVOUR = f"{PREFIX}/flavour"
METADATA = f"{PREFIX}/metadata"
POWER = f"{PREFIX}/power"
ACTION = f"{PREFIX}/last-action"
GENERATION = f"{PREFIX}/generation"
HOME = f"{PREFIX}/home-volume"
GROUPS = f"{PREFIX}/security-groups"
GROUP_LABEL = "security-group.visa-platform.io/"

#: container waiting reasons that will not fix themselves: the instance is in ERROR
FATAL_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "CrashLoopBackOff",
        "RunContainerError",
    }
)


_SUFFIXES: dict[str, Decimal] = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
}


def parse_quantity(value: object) -> Decimal:
    """A Kubernetes quantity (``500m``, ``4Gi``, ``2``) as a number; ``ValueError`` if invalid."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]*)?)([A-Za-z]*)", str(value).strip())
    if not match or (match.group(2) and match.group(2) not in _SUFFIXES):
        raise ValueError(f"invalid quantity {value!r}")
    return Decimal(match.group(1)) * _SUFFIXES.get(match.group(2), Decimal(1))


def instance_id_for(name: str) -> str:
    """A DNS-1035 label derived from the VISA server name, unique by a random suffix."""
    base = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:40].strip("-")
    if not base or not base[0].isalpha():
        base = f"i-{base}".strip("-")
    return f"{base}-{secrets.token_hex(3)}"


def is_instance_id(value: str) -> bool:
    """Whether ``value`` could name our objects (anything else cannot exist: not found)."""
    return re.fullmatch(r"[a-z]([-a-z0-9]{0,50}[a-z0-9])?", value) is not None


def labels(instance_id: str) -> dict[str, str]:
    return {MANAGED: "visa-platform", INSTANCE: instance_id}


def group_label(group: str) -> str:
    return GROUP_LABEL + group


def secret_manifest(instance_id: str, metadata: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": instance_id, "labels": labels(instance_id)},
        "type": "Opaque",
        "stringData": dict(metadata),
    }


def pvc_manifest(instance_id: str, settings: KubernetesSettings) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": settings.home_volume_size}},
    }
    if settings.home_storage_class:
        spec["storageClassName"] = settings.home_storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{instance_id}-home", "labels": labels(instance_id)},
        "spec": spec,
    }


def service_manifest(
    instance_id: str,
    *,
    name: str,
    image: ImageSpec,
    flavour: FlavourSpec,
    metadata: Mapping[str, str],
    groups: Iterable[str],
    settings: KubernetesSettings,
) -> dict[str, Any]:
    annotations = {
        NAME: name,
        IMAGE: image.id,
        FLAVOUR: flavour.id,
        METADATA: json.dumps(dict(metadata), sort_keys=True),
        POWER: "on",
        ACTION: "create",
        GENERATION: "1",
        GROUPS: json.dumps(list(groups)),
        HOME: f"{instance_id}-home" if settings.home_volume_size else "",
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": instance_id,
            "labels": labels(instance_id),
            "annotations": annotations,
        },
        "spec": {
            "type": settings.service_type,
            "selector": {INSTANCE: instance_id},
            "ports": [
                {"name": port_name, "port": port, "targetPort": port, "protocol": "TCP"}
                for port_name, port in settings.ports
            ],
        },
    }


def _memory(mb: int) -> str:
    return f"{mb}Mi"


def _cpu(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def pod_manifest(
    service: Mapping[str, Any],
    *,
    image: ImageSpec,
    flavour: FlavourSpec,
    settings: KubernetesSettings,
) -> dict[str, Any]:
    """The pod of the service's current generation (image and flavour as at creation)."""
    instance_id = service["metadata"]["name"]
    annotations = service["metadata"].get("annotations") or {}
    generation = annotations.get(GENERATION, "1")
    limits = {"cpu": _cpu(flavour.cpus), "memory": _memory(flavour.ram)}
    requests = {
        "cpu": _cpu(flavour.cpus * settings.cpu_request_ratio),
        "memory": _memory(flavour.ram),
    }
    if flavour.gpus:
        limits[settings.gpu_resource] = str(flavour.gpus)
        requests[settings.gpu_resource] = str(flavour.gpus)
    container: dict[str, Any] = {
        "name": "instance",
        "image": image.image,
        "imagePullPolicy": image.pull_policy,
        "resources": {"requests": requests, "limits": limits},
        "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in settings.ports],
        "envFrom": [{"prefix": "VISA_", "secretRef": {"name": instance_id, "optional": True}}],
        "env": [{"name": "VISA_INSTANCE_NAME", "value": annotations.get(NAME, "")}],
    }
    spec: dict[str, Any] = {"containers": [container], "restartPolicy": "Always"}
    home = annotations.get(HOME)
    if home:
        container["volumeMounts"] = [{"name": "home", "mountPath": settings.home_mount_path}]
        spec["volumes"] = [{"name": "home", "persistentVolumeClaim": {"claimName": home}}]
    if settings.image_pull_secret:
        spec["imagePullSecrets"] = [{"name": settings.image_pull_secret}]
    pod_labels = labels(instance_id)
    pod_labels.update({group_label(g): "true" for g in security_groups_of(service)})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{instance_id}-{generation}",
            "labels": pod_labels,
            "annotations": {NAME: annotations.get(NAME, ""), GENERATION: generation},
        },
        "spec": spec,
    }


def security_groups_of(service: Mapping[str, Any]) -> list[str]:
    raw = (service["metadata"].get("annotations") or {}).get(GROUPS) or "[]"
    try:
        groups = json.loads(raw)
    except ValueError:
        return []
    return [str(g) for g in groups] if isinstance(groups, list) else []


def live_pods(pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Pods not being deleted, newest generation first."""
    alive = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    return sorted(alive, key=_generation, reverse=True)


def _generation(pod: Mapping[str, Any]) -> int:
    value = (pod["metadata"].get("annotations") or {}).get(GENERATION, "0")
    return int(value) if str(value).isdigit() else 0


def _fault(pod: Mapping[str, Any]) -> CloudInstanceFault | None:
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in FATAL_REASONS:
            return CloudInstanceFault(
                message=waiting["reason"], details=waiting.get("message") or None
            )
        terminated = state.get("terminated") or {}
        if terminated and status.get("phase") == "Failed":
            return CloudInstanceFault(
                message=terminated.get("reason") or "Failed",
                code=terminated.get("exitCode"),
                details=terminated.get("message") or None,
            )
    if status.get("phase") == "Failed":
        return CloudInstanceFault(message=status.get("reason") or "Failed")
    return None


def _ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def cloud_state(
    service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]
) -> tuple[S, Mapping[str, Any] | None, CloudInstanceFault | None]:
    """The instance's cloud state, the pod it describes and the fault (for ERROR)."""
    annotations = service["metadata"].get("annotations") or {}
    pods = list(pods)
    alive = live_pods(pods)
    if annotations.get(POWER) == "off":
        return (S.STOPPING if pods else S.STOPPED), None, None
    action = annotations.get(ACTION, "create")
    pending = {"create": S.BUILDING, "reboot": S.REBOOTING}.get(action, S.STARTING)
    if not alive:
        # being replaced (reboot) or gone behind our back (evicted): start re-creates it
        return (pending if pods else S.STOPPED), None, None
    pod = alive[0]
    phase = (pod.get("status") or {}).get("phase")
    fault = _fault(pod)
    if fault is not None:
        return S.ERROR, pod, fault
    if phase == "Running":
        return (S.ACTIVE if _ready(pod) else pending), pod, None
    if phase == "Pending":
        return pending, pod, None
    if phase == "Succeeded":
        return S.STOPPED, pod, None
    return S.UNKNOWN, pod, None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def to_instance(
    service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]], address_source: str
) -> CloudInstance:
    """The :class:`CloudInstance` for a service and the pods labelled with its id."""
    metadata = service["metadata"]
    annotations = metadata.get("annotations") or {}
    state, pod, fault = cloud_state(service, pods)
    address = None
    if address_source == "service":
        address = (service.get("spec") or {}).get("clusterIP") or None
        if address == "None":
            address = None
    elif pod is not None:
        address = (pod.get("status") or {}).get("podIP") or None
    try:
        instance_metadata = json.loads(annotations.get(METADATA) or "{}")
    except ValueError:
        instance_metadata = {}
    return CloudInstance(
        id=metadata["name"],
        name=annotations.get(NAME) or metadata["name"],
        state=state,
        address=address,
        image_id=annotations.get(IMAGE),
        flavour_id=annotations.get(FLAVOUR),
        created_at=_datetime(metadata.get("creationTimestamp")),
        fault=fault,
        security_groups=tuple(security_groups_of(service)),
        metadata={str(k): str(v) for k, v in instance_metadata.items()}
        if isinstance(instance_metadata, dict)
        else {},
    )


__all__ = [
    "FATAL_REASONS",
    "MANAGED_SELECTOR",
    "cloud_state",
    "instance_id_for",
    "pod_manifest",
    "pvc_manifest",
    "secret_manifest",
    "service_manifest",
    "to_instance",
]
