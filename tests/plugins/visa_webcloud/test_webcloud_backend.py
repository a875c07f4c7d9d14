"""The web provider backend speaks VISA's web cloud contract (spec §3.4) to the fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from visa_platform.compute import (
    BackendConfig,
    CloudAuthenticationError,
    CloudConfigurationError,
    CloudProtocolError,
    InstanceRequest,
)
from visa_platform.domain.enums import CloudInstanceState as S
from visa_platform.plugin import PluginHost
from visa_platform.testing.fake_webcloud import FakeWebCloud
from visa_platform.testing.fakehttp import FakeRequest, FakeResponse, json_response
from visa_webcloud import WebCloudBackend
from visa_webcloud.backend import instance_from_json


def config(parameters: dict[str, str]) -> BackendConfig:
    return BackendConfig(cloud_id=3, name="proxmox", type="web", parameters=parameters)


@pytest.fixture
async def cloud() -> AsyncIterator[FakeWebCloud]:
    async with FakeWebCloud(build_seconds=0.05) as fake:
        yield fake


@pytest.fixture
async def backend(cloud: FakeWebCloud) -> AsyncIterator[WebCloudBackend]:
    backend = WebCloudBackend.from_config(config(cloud.parameters()))
    yield backend
    await backend.close()


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"authToken": "t"}, "url is required"),
        ({"url": "http://p"}, "authToken is required"),
        ({"url": "proxmox:8080", "authToken": "t"}, r"is not an http\(s\) URL"),
    ],
)
def test_configuration_errors(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(CloudConfigurationError, match=message):
        WebCloudBackend.from_config(config(parameters))


async def test_create_sends_the_contract_body(
    cloud: FakeWebCloud, backend: WebCloudBackend
) -> None:
    request = InstanceRequest(
        name="VISA-INSTANCE-9",
        image_id="100",
        flavour_id="small",
        security_groups=("visa-rdp",),
        metadata={"owner": "bob", "id": "9"},
        boot_command="echo hi",
    )
    created = await backend.create_instance(request)
    post = next(r for r in cloud.requests if r.method == "POST")
    assert post.path == "/api/instances"
    assert post.headers["x-auth-token"] == "web-provider-token"
    assert json.loads(post.body) == {
        "name": "VISA-INSTANCE-9",
        "imageId": "100",
        "flavourId": "small",
        "securityGroups": ["visa-rdp"],
        "metadata": {"owner": "bob", "id": "9"},
        "bootCommand": "echo hi",
    }
    assert created.state is S.BUILDING
    assert created.metadata == {"owner": "bob", "id": "9"}
    plain = InstanceRequest(name="n", image_id="100", flavour_id="small")
    await backend.create_instance(plain)
    last = [r for r in cloud.requests if r.method == "POST"][-1]
    assert "bootCommand" not in json.loads(last.body)


async def test_wrong_token(cloud: FakeWebCloud) -> None:
    backend = WebCloudBackend.from_config(config({**cloud.parameters(), "authToken": "bad"}))
    with pytest.raises(CloudAuthenticationError) as caught:
        await backend.images()
    assert not caught.value.retryable
    await backend.close()


async def test_metrics_use_the_ram_spelling(backend: WebCloudBackend) -> None:
    limits = await backend.limits()
    assert limits is not None
    assert (limits.max_total_ram_size, limits.max_total_cores) == (262144, 64)


async def test_catalogue(backend: WebCloudBackend) -> None:
    assert [i.name for i in await backend.images()] == ["visa-desktop", "visa-jupyter"]
    flavour = await backend.flavour("large")
    assert flavour is not None and (flavour.cpus, flavour.ram, flavour.disk) == (8, 32768, 100)
    assert await backend.security_groups() == ["default", "visa-rdp", "visa-ssh"]


async def test_malformed_items_are_protocol_errors(
    cloud: FakeWebCloud, backend: WebCloudBackend
) -> None:
    async def broken(request: FakeRequest) -> FakeResponse:
        return json_response([{"name": "no id"}])

    cloud.add_route("GET", r"/api/instances", broken)
    cloud._routes.insert(0, cloud._routes.pop())
    with pytest.raises(CloudProtocolError):
        await backend.list_instances()


def test_instance_json() -> None:
    instance = instance_from_json(
        {
            "id": 7,
            "name": "x",
            "state": "starting",
            "address": "",
            "createdAt": "2024-05-01T10:00:00Z",
            "fault": {"message": "m", "code": 3},
        }
    )
    assert instance.id == "7"
    assert instance.state is S.STARTING
    assert instance.address is None
    assert instance.created_at is not None and instance.created_at.year == 2024
    assert instance.fault is not None and instance.fault.code == 3
    assert instance_from_json({"id": "1", "state": "WEIRD"}).state is S.UNKNOWN


def test_the_entry_point_registers_web() -> None:
    host = PluginHost()
    host.load_entry_points(allow=["webcloud"])
    assert host.compute_backends.get("web").plugin == "webcloud"
