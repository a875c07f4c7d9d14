"""The Kubernetes backend's test rig: catalogue, parameters and security groups of the fake."""

from __future__ import annotations

import json
from typing import Any

from visa_platform.compute import BackendConfig
from visa_platform.testing.fake_kubernetes import FakeKubernetes

TIMEOUT = 1.0
QUOTA = {"pods": "20", "requests.cpu": "32", "requests.memory": "64Gi"}
IMAGES = [
    {"id": "desktop", "name": "VISA desktop", "image": "visa/desktop:1", "pullPolicy": "Always"},
    {"id": "jupyter", "name": "VISA Jupyter", "image": "visa/jupyter:1"},
]
FLAVOURS = [
    {"id": "small", "name": "Small", "cpus": 2, "ram": 4096},
    {"id": "gpu", "name": "GPU", "cpus": 8, "ram": 32768, "gpus": 1, "disk": 50},
]
GROUPS = ("visa-rdp", "visa-ssh")


def parameters(cluster: FakeKubernetes, **extra: str) -> dict[str, str]:
    """Token authentication against the fake, with the test catalogue."""
    return {
        "server": cluster.url,
        "token": "fake-token",
        "namespace": "visa",
        "images": json.dumps(IMAGES),
        "flavours": json.dumps(FLAVOURS),
        "ports": "rdp:3389,jupyter:8888",
        **extra,
    }


def config(params: dict[str, str]) -> BackendConfig:
    return BackendConfig(
        cloud_id=9,
        name="k8s",
        type="kubernetes",
        parameters=params,
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
    )


def add_security_groups(cluster: FakeKubernetes, names: tuple[str, ...] = GROUPS) -> None:
    """NetworkPolicies that the backend offers as security groups."""
    for name in names:
        cluster.put(
            "networkpolicies",
            "visa",
            {
                "metadata": {"name": name, "labels": {"visa-platform.io/security-group": name}},
                "spec": {
                    "podSelector": {
                        "matchLabels": {f"security-group.visa-platform.io/{name}": "true"}
                    },
                    "policyTypes": ["Ingress"],
                },
            },
        )


def objects(cluster: FakeKubernetes, plural: str) -> list[dict[str, Any]]:
    """The fake's stored objects of a kind in the backend's namespace."""
    return cluster.objects_of(plural, "visa")
