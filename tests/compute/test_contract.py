"""Every compute backend of the platform passes the contract suite against its fake cloud."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from visa_openstack import OpenStackBackend
from visa_platform.compute import BackendConfig
from visa_platform.testing.compute_contract import (
    ComputeBackendContract,
    ContractTarget,
    FakeServerFaults,
)
from visa_platform.testing.fake_openstack import FakeOpenStack
from visa_platform.testing.fake_webcloud import FakeWebCloud
from visa_webcloud import WebCloudBackend

TIMEOUT = 1.0  # connect and read timeouts of the backends under test (seconds)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def config(kind: str, parameters: dict[str, str]) -> BackendConfig:
    return BackendConfig(
        cloud_id=7,
        name="contract",
        type=kind,
        parameters=parameters,
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
    )


async def openstack_target(auth: str) -> AsyncIterator[ContractTarget]:
    async with FakeOpenStack(build_seconds=0.1, transition_seconds=0.05) as cloud:
        backend = OpenStackBackend.from_config(config("openstack", cloud.parameters(auth)))
        dead = closed_port_url()
        unreachable = OpenStackBackend.from_config(
            config("openstack", {**cloud.parameters(auth), "identityEndpoint": dead})
        )

        def set_error(enabled: bool) -> None:
            cloud.servers_go_to_error = enabled

        yield ContractTarget(
            backend=backend,
            image_id=cloud.images[0]["id"],
            flavour_id=cloud.flavors[0]["id"],
            security_groups=("visa-rdp", "visa-ssh"),
            faults=FakeServerFaults(cloud, "/compute/v2.1/servers", set_error),
            unreachable=unreachable,
            call_bound=3 * TIMEOUT + 1,
        )
        await backend.close()
        await unreachable.close()


async def web_target() -> AsyncIterator[ContractTarget]:
    async with FakeWebCloud(build_seconds=0.1, transition_seconds=0.05) as cloud:
        backend = WebCloudBackend.from_config(config("web", cloud.parameters()))
        unreachable = WebCloudBackend.from_config(
            config("web", {**cloud.parameters(), "url": closed_port_url()})
        )

        def set_error(enabled: bool) -> None:
            cloud.servers_go_to_error = enabled

        yield ContractTarget(
            backend=backend,
            image_id=cloud.images[0]["id"],
            flavour_id=cloud.flavours[0]["id"],
            security_groups=("visa-rdp", "visa-ssh"),
            faults=FakeServerFaults(cloud, "/api/instances", set_error),
            unreachable=unreachable,
            call_bound=3 * TIMEOUT + 1,
        )
        await backend.close()
        await unreachable.close()


class TestBackendContract(ComputeBackendContract):
    """The suite, once per backend (and per authentication method for OpenStack)."""

    @pytest.fixture(params=["openstack-appcred", "openstack-password", "web"])
    async def contract_target(
        self, request: pytest.FixtureRequest
    ) -> AsyncIterator[ContractTarget]:
        kind = str(request.param)
        if kind.startswith("openstack"):
            auth = "password" if kind.endswith("password") else "application_credential"
            async for target in openstack_target(auth):
                yield target
        else:
            async for target in web_target():
                yield target
