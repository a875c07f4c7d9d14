"""The Kubernetes cloud's parameters (cloud_provider_configuration_parameter rows), validated.

Kubernetes has no images or flavours, so both come from the configuration as JSON lists. See
docs/kubernetes.md for every key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from visa_platform.compute import BackendConfig, CloudConfigurationError, CloudFlavour, CloudImage

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
AUTHENTICATIONS = ("in-cluster", "kubeconfig", "token")
_QUANTITY = re.compile(r"[0-9.]+([KMGTE]i?|m)?")


@dataclass(frozen=True, kw_only=True)
class ImageSpec:
    """A VISA image id mapped to a container image."""

    id: str
    name: str
    image: str
    pull_policy: str = "IfNotPresent"

    def cloud_image(self) -> CloudImage:
        return CloudImage(id=self.id, name=self.name)


@dataclass(frozen=True, kw_only=True)
class FlavourSpec:
    """A VISA flavour mapped to pod resources: ``cpus`` cores, ``ram`` MB, ``gpus`` devices."""

    id: str
    name: str
    cpus: float
    ram: int
    gpus: int = 0
    disk: int = 0

    def cloud_flavour(self) -> CloudFlavour:
        return CloudFlavour(
            id=self.id, name=self.name, cpus=self.cpus, ram=self.ram, disk=self.disk
        )


@dataclass(frozen=True, kw_only=True)
class KubernetesSettings:
    """Everything the backend reads from a cloud's parameters."""

    namespace: str
    authentication: str
    kubeconfig: str | None
    context: str | None
    server: str | None
    token: str | None
    ca_certificate: str | None
    verify_ssl: bool
    images: tuple[ImageSpec, ...]
    flavours: tuple[FlavourSpec, ...]
    ports: tuple[tuple[str, int], ...]
    service_type: str
    address: str
    gpu_resource: str
    home_volume_size: str | None
    home_storage_class: str | None
    home_mount_path: str
    image_pull_secret: str | None
    cpu_request_ratio: float

    def image(self, image_id: str) -> ImageSpec | None:
        return next((i for i in self.images if i.id == image_id), None)

    def flavour(self, flavour_id: str) -> FlavourSpec | None:
        return next((f for f in self.flavours if f.id == flavour_id), None)


def _json_list(name: str, raw: str | None, problems: list[str]) -> list[Mapping[str, Any]]:
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError as exc:
        problems.append(f"{name}: not JSON ({exc})")
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        problems.append(f"{name}: must be a JSON list of objects")
        return []
    return value


def _images(raw: str | None, problems: list[str]) -> tuple[ImageSpec, ...]:
    images = []
    for item in _json_list("images", raw, problems):
        policy = str(item.get("pullPolicy") or "IfNotPresent")
        if not item.get("id") or not item.get("image"):
            problems.append(f"images: {dict(item)!r} needs id and image")
        elif policy not in PULL_POLICIES:
            problems.append(f"images: pullPolicy {policy!r} is not one of {PULL_POLICIES}")
        else:
            images.append(
                ImageSpec(
                    id=str(item["id"]),
                    name=str(item.get("name") or item["id"]),
                    image=str(item["image"]),
                    pull_policy=policy,
                )
            )
    return tuple(images)


def _flavours(raw: str | None, problems: list[str]) -> tuple[FlavourSpec, ...]:
    flavours = []
    for item in _json_list("flavours", raw, problems):
        try:
            flavour = FlavourSpec(
                id=str(item["id"]),
                name=str(item.get("name") or item["id"]),
                cpus=float(item["cpus"]),
                ram=int(item["ram"]),
                gpus=int(item.get("gpus") or 0),
                disk=int(item.get("disk") or 0),
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"flavours: {dict(item)!r} needs id, cpus and ram (MB)")
            continue
        if flavour.cpus <= 0 or flavour.ram <= 0 or flavour.gpus < 0:
            problems.append(f"flavours: {flavour.id!r} needs positive cpus and ram")
        else:
            flavours.append(flavour)
    return tuple(flavours)


def _ports(raw: str, problems: list[str]) -> tuple[tuple[str, int], ...]:
    ports = []
    for item in (p.strip() for p in raw.split(",") if p.strip()):
        name, _, port = item.rpartition(":")
        name = name or f"port-{port}"
        if not port.isdigit() or not 0 < int(port) < 65536:
            problems.append(f"ports: {item!r} is not name:port")
        elif not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?", name):
            problems.append(f"ports: {name!r} is not a valid port name (lower case, <= 15)")
        else:
            ports.append((name, int(port)))
    return tuple(ports)


def load_settings(config: BackendConfig) -> KubernetesSettings:
    """Validate the parameters; one :class:`CloudConfigurationError` listing every problem."""
    p = config.parameter
    problems: list[str] = []
    namespace = p("namespace") or "visa"
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", namespace):
        problems.append(f"namespace: {namespace!r} is not a valid namespace name")
    authentication = p("authentication") or (
        "token" if p("server") else "kubeconfig" if p("kubeconfig") else "in-cluster"
    )
    if authentication not in AUTHENTICATIONS:
        problems.append(f"authentication: {authentication!r} is not one of {AUTHENTICATIONS}")
    if authentication == "token" and not p("server"):
        problems.append("server is required with token authentication")
    service_type = p("serviceType") or "ClusterIP"
    if service_type not in ("ClusterIP", "NodePort", "LoadBalancer"):
        problems.append(f"serviceType: {service_type!r} is not ClusterIP, NodePort or LoadBalancer")
    address = p("address") or "pod"
    if address not in ("pod", "service"):
        problems.append(f"address: {address!r} is not pod or service")
    home_size = p("homeVolumeSize")
    if home_size and not _QUANTITY.fullmatch(home_size):
        problems.append(f"homeVolumeSize: {home_size!r} is not a quantity such as 10Gi")
    try:
        ratio = float(p("cpuRequestRatio") or "1")
        if not 0 < ratio <= 1:
            raise ValueError
    except ValueError:
        problems.append("cpuRequestRatio: must be a number in (0, 1]")
        ratio = 1.0
    settings = KubernetesSettings(
        namespace=namespace,
        authentication=authentication,
        kubeconfig=p("kubeconfig"),
        context=p("context"),
        server=(p("server") or "").rstrip("/") or None,
        token=p("token"),
        ca_certificate=p("caCertificate"),
        verify_ssl=(p("verifySsl") or "true").lower() not in ("false", "0", "no"),
        images=_images(p("images"), problems),
        flavours=_flavours(p("flavours"), problems),
        ports=_ports(p("ports") or "rdp:3389", problems),
        service_type=service_type,
        address=address,
        gpu_resource=p("gpuResource") or "nvidia.com/gpu",
        home_volume_size=home_size,
        home_storage_class=p("homeStorageClass"),
        home_mount_path=p("homeMountPath") or "/home",
        image_pull_secret=p("imagePullSecret"),
        cpu_request_ratio=ratio,
    )
    if problems:
        raise CloudConfigurationError(f"kubernetes cloud {config.name!r}: " + "; ".join(problems))
    return settings


__all__ = ["FlavourSpec", "ImageSpec", "KubernetesSettings", "load_settings"]
