"""The OpenStack backend against the fake OpenStack, through the real openstacksdk."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator

import pytest

from visa_openstack import OpenStackBackend
from visa_platform.compute import (
    BackendConfig,
    CloudAuthenticationError,
    CloudRejectedError,
    CloudUnavailableError,
    InstanceRequest,
    instance_metadata,
    load_cloud_clients,
)
from visa_platform.config import load_settings
from visa_platform.domain.enums import CloudInstanceState as S
from visa_platform.plugin import PluginHost
from visa_platform.testing.compute_contract import poll_state
from visa_platform.testing.fake_openstack import FakeOpenStack


@pytest.fixture
async def cloud() -> AsyncIterator[FakeOpenStack]:
    async with FakeOpenStack(build_seconds=0.05) as fake:
        yield fake


def backend_for(
    cloud: FakeOpenStack, auth: str = "application_credential", **extra: str
) -> OpenStackBackend:
    parameters = {**cloud.parameters(auth), **extra}
    config = BackendConfig(
        cloud_id=None,
        name="Default",
        type="openstack",
        parameters=parameters,
        connect_timeout=1,
        read_timeout=1,
    )
    return OpenStackBackend.from_config(config)


@pytest.fixture
async def backend(cloud: FakeOpenStack) -> AsyncIterator[OpenStackBackend]:
    backend = backend_for(cloud)
    yield backend
    await backend.close()


async def test_metadata_and_cloud_init_reach_the_server(
    cloud: FakeOpenStack, backend: OpenStackBackend
) -> None:
    metadata = instance_metadata(
        instance_id=42,
        uid="abcd1234",
        owner="alice",
        screen_width=1920,
        screen_height=1080,
        keyboard_layout="en-gb-qwerty",
        instruments=["D11", "IN5"],
        proposals=["1-01-123"],
        pam_public_key="PUBLIC",
        attributes={"homeDirectory": "/home/alice"},
    )
    boot = "#!/bin/bash\nmount /data\n"
    request = InstanceRequest(
        name="VISA-INSTANCE-42",
        image_id=cloud.images[0]["id"],
        flavour_id="2",
        security_groups=("default", "visa-rdp"),
        metadata=metadata,
        boot_command=boot,
    )
    created = await backend.create_instance(request)
    raw = cloud.servers[created.id]
    assert base64.b64decode(raw["user_data"]).decode() == boot
    assert raw["metadata"] == metadata
    assert raw["metadata"]["instruments"] == "D11,IN5"
    assert [n["id"] for n in raw["_networks"]] == [cloud.networks[0]["id"]]
    assert created.state is S.BUILDING
    assert created.metadata == metadata
    assert created.security_groups == ("default", "visa-rdp")
    active = await poll_state(backend, created.id, {S.ACTIVE}, 5)
    assert active.flavour_id == "2"
    assert active.address == raw["addresses"]["private"][0]["addr"]
    assert active.created_at is not None


async def test_no_boot_command_sends_no_user_data(
    cloud: FakeOpenStack, backend: OpenStackBackend
) -> None:
    request = InstanceRequest(name="n", image_id=cloud.images[0]["id"], flavour_id="1")
    created = await backend.create_instance(request)
    assert cloud.servers[created.id]["user_data"] is None


async def test_address_provider_picks_the_network(cloud: FakeOpenStack) -> None:
    two_networks = ",".join(n["id"] for n in cloud.networks)
    backend = backend_for(cloud, addressProvider="data", addressProviderUUID=two_networks)
    request = InstanceRequest(name="n", image_id=cloud.images[0]["id"], flavour_id="1")
    created = await backend.create_instance(request)
    active = await poll_state(backend, created.id, {S.ACTIVE}, 5)
    assert active.address == cloud.servers[created.id]["addresses"]["data"][0]["addr"]
    assert active.address != cloud.servers[created.id]["addresses"]["private"][0]["addr"]
    await backend.close()


async def test_error_state_carries_the_fault(
    cloud: FakeOpenStack, backend: OpenStackBackend
) -> None:
    cloud.servers_go_to_error = True
    request = InstanceRequest(name="n", image_id=cloud.images[0]["id"], flavour_id="1")
    created = await backend.create_instance(request)
    failed = await poll_state(backend, created.id, {S.ERROR}, 5)
    assert failed.fault is not None and failed.fault.code == 500
    assert failed.fault.message and "No valid host" in failed.fault.message


@pytest.mark.parametrize("auth", ["application_credential", "password"])
async def test_reauthenticates_when_the_token_expires(cloud: FakeOpenStack, auth: str) -> None:
    backend = backend_for(cloud, auth)
    await backend.list_instances()
    assert cloud.auth_count == 1
    cloud.expire_tokens()
    await backend.list_instances()
    assert cloud.auth_count == 2
    assert cloud.count("GET", "/servers/detail") == 3  # one answered 401, then retried
    await backend.close()


async def test_short_token_lifetime_keeps_working(cloud: FakeOpenStack) -> None:
    cloud.token_lifetime = 0.3
    backend = backend_for(cloud)
    await backend.limits()
    time.sleep(0.4)  # noqa: ASYNC251 - let the token expire without serving anything
    assert (await backend.limits()) is not None
    assert cloud.auth_count >= 2
    await backend.close()


async def test_wrong_credentials(cloud: FakeOpenStack) -> None:
    backend = backend_for(cloud, applicationSecret="wrong")
    with pytest.raises(CloudAuthenticationError) as caught:
        await backend.list_instances()
    assert not caught.value.retryable
    assert "contact an administrator" in caught.value.user_message
    assert "wrong" not in str(caught.value)
    await backend.close()


async def test_quota_exceeded_is_rejected(cloud: FakeOpenStack, backend: OpenStackBackend) -> None:
    cloud.limits["maxTotalInstances"] = 0
    request = InstanceRequest(name="n", image_id=cloud.images[0]["id"], flavour_id="1")
    with pytest.raises(CloudRejectedError) as caught:
        await backend.create_instance(request)
    assert caught.value.status == 403
    assert "quota" in caught.value.user_message


async def test_server_list_follows_pages(cloud: FakeOpenStack, backend: OpenStackBackend) -> None:
    cloud.page_size = 1000
    cloud.limits["maxTotalInstances"] = 10_000
    ids = cloud.add_servers(2500)
    before = cloud.count("GET", "/servers/detail")
    listed = await backend.list_instances()
    assert [i.id for i in listed] == ids
    assert cloud.count("GET", "/servers/detail") - before == 3
    assert {i.state for i in listed} == {S.ACTIVE}
    identifiers = await backend.list_instance_identifiers()
    assert [i.id for i in identifiers] == ids


async def test_image_list_follows_pages(cloud: FakeOpenStack, backend: OpenStackBackend) -> None:
    cloud.images += [cloud.image_body(f"img-{n}", f"extra-{n}", size=n) for n in range(60)]
    images = await backend.images()
    assert len(images) == 62
    assert images[-1].size == 59
    assert cloud.count("GET", "/image/v2/images") == 3


async def test_catalogue_and_limits(cloud: FakeOpenStack, backend: OpenStackBackend) -> None:
    assert [f.name for f in await backend.flavours()] == ["m1.small", "m1.large", "g1.gpu"]
    assert (await backend.flavour("2")) is not None
    assert await backend.security_groups() == ["Beamline-42", "default", "visa-rdp", "visa-ssh"]
    limits = await backend.limits()
    assert limits is not None
    assert (limits.max_total_cores, limits.max_total_instances) == (200, 50)


async def test_read_timeout_comes_from_configuration(
    cloud: FakeOpenStack, backend: OpenStackBackend
) -> None:
    await backend.list_instances()
    cloud.faults.set_latency(3, match="/servers")
    started = time.monotonic()
    with pytest.raises(CloudUnavailableError):
        await backend.list_instances()
    assert 0.9 <= time.monotonic() - started < 2.5  # read timeout 1 s, not the 3 s latency


async def test_registered_as_the_default_cloud(cloud: FakeOpenStack) -> None:
    host = PluginHost()
    import visa_openstack.plugin

    host.register(visa_openstack.plugin, "openstack")
    assert "openstack" in host.compute_backends.ids()
    settings = load_settings(
        cloud_identity_endpoint=cloud.identity_endpoint,
        cloud_compute_endpoint=cloud.compute_endpoint,
        cloud_image_endpoint=cloud.image_endpoint,
        cloud_network_endpoint=cloud.network_endpoint,
        cloud_application_id="visa-app-id",
        cloud_application_secret="visa-app-secret",
        cloud_address_provider="private",
        cloud_address_provider_uuid="null",
        cloud_rest_client_read_timeout_ms=2500,
    )
    clients = await load_cloud_clients(settings, host.compute_backends)
    default = clients.default
    assert default is not None and isinstance(default.backend, OpenStackBackend)
    assert default.backend.settings.read_timeout == 2.5
    assert default.backend.settings.network_ids == ()
    images = await default.backend.images()
    assert images[0].name == "visa-desktop-ubuntu-22.04"
    await clients.close()


def test_the_entry_point_registers_openstack() -> None:
    host = PluginHost()
    host.load_entry_points(allow=["openstack"])
    entry = host.compute_backends.get("openstack")
    assert entry.plugin == "openstack"
