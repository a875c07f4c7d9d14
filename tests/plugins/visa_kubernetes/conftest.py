"""Fixtures of the Kubernetes backend's tests: a fake cluster and a backend pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from kubernetes_rig import QUOTA, add_security_groups, config, parameters

from visa_kubernetes.backend import KubernetesBackend
from visa_platform.testing.fake_kubernetes import FakeKubernetes


@pytest.fixture
async def cluster() -> AsyncIterator[FakeKubernetes]:
    async with FakeKubernetes(quota=QUOTA, kubelet_seconds=0.05, termination_seconds=0.05) as fake:
        add_security_groups(fake)
        yield fake


@pytest.fixture
async def backend(cluster: FakeKubernetes) -> AsyncIterator[KubernetesBackend]:
    backend = KubernetesBackend(config(parameters(cluster)))
    yield backend
    await backend.close()
