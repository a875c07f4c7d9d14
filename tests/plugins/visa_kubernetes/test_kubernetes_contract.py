"""The Kubernetes backend passes the compute-backend contract suite against the fake cluster."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from kubernetes_rig import (
    GROUPS,
    QUOTA,
    TIMEOUT,
    add_security_groups,
    config,
    parameters,
)

from visa_kubernetes.backend import KubernetesBackend
from visa_platform.testing.compute_contract import (
    ComputeBackendContract,
    ContractTarget,
    FakeServerFaults,
)
from visa_platform.testing.fake_kubernetes import FakeKubernetes


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class TestKubernetesContract(ComputeBackendContract):
    """The suite with pod addresses, then with service addresses and a home volume."""

    @pytest.fixture(params=["pod-address", "service-address-home"])
    async def contract_target(
        self, request: pytest.FixtureRequest
    ) -> AsyncIterator[ContractTarget]:
        extra = (
            {"address": "service", "homeVolumeSize": "1Gi"}
            if request.param == "service-address-home"
            else {}
        )
        async with FakeKubernetes(quota=QUOTA, kubelet_seconds=0.05) as cluster:
            add_security_groups(cluster)
            backend = KubernetesBackend(config(parameters(cluster, **extra)))
            unreachable = KubernetesBackend(
                config({**parameters(cluster), "server": closed_port_url()})
            )

            def set_error(enabled: bool) -> None:
                cluster.pods_fail = enabled

            yield ContractTarget(
                backend=backend,
                image_id="desktop",
                flavour_id="small",
                security_groups=GROUPS,
                faults=FakeServerFaults(cluster, "/api/v1/namespaces/visa/", set_error),
                unreachable=unreachable,
                call_bound=3 * TIMEOUT + 1,
            )
            await backend.close()
            await unreachable.close()
