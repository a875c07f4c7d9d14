"""One backend per cloud client: the default cloud from settings, others from the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.compute import (
    BackendConfig,
    CloudConfigurationError,
    ComputeBackend,
    NullBackend,
    default_cloud_config,
    load_cloud_clients,
)
from visa_platform.compute.clients import CloudClients
from visa_platform.config import load_settings
from visa_platform.db.models.cloud import (
    CloudProviderConfiguration,
    CloudProviderConfigurationParameter,
)
from visa_platform.plugin.registry import Registry, RegistryEntry


class Recorder(NullBackend):
    """A backend that keeps the configuration it was built with."""

    closed = False

    async def close(self) -> None:
        self.closed = True


def registry() -> Registry:
    def failing(config: BackendConfig) -> ComputeBackend:
        raise CloudConfigurationError(f"{config.name}: url is required")

    def not_a_backend(config: BackendConfig) -> Any:
        return object()

    reg = Registry("compute backend")
    reg.commit(
        [
            RegistryEntry("recorder", Recorder, "test"),
            RegistryEntry("failing", failing, "test"),
            RegistryEntry("odd", not_a_backend, "test"),
        ]
    )
    return reg


def test_default_cloud_from_settings() -> None:
    settings = load_settings(
        default_cloud_provider_type="recorder",
        default_cloud_provider_name="ILL",
        cloud_server_name_prefix="ILL-VISA",
        cloud_identity_endpoint="http://keystone:5000",
        cloud_application_secret="s3cret",
        cloud_address_provider="null",
        cloud_web_provider_url="",
        cloud_rest_client_connect_timeout_ms=1500,
    )
    config = default_cloud_config(settings)
    assert config is not None
    assert (config.cloud_id, config.name, config.type) == (None, "ILL", "recorder")
    assert config.server_name_prefix == "ILL-VISA"
    assert config.parameters == {
        "identityEndpoint": "http://keystone:5000",
        "applicationSecret": "s3cret",
    }
    assert (config.connect_timeout, config.read_timeout) == (1.5, 30.0)


def test_null_type_and_disabled_default() -> None:
    config = default_cloud_config(load_settings(default_cloud_provider_type="null"))
    assert config is not None and config.type == "null"
    assert default_cloud_config(load_settings(cloud_default_provider_enabled=False)) is None


async def test_clients_without_database() -> None:
    settings = load_settings(default_cloud_provider_type="null")
    clients = await load_cloud_clients(settings, registry())
    assert clients.default is not None
    assert isinstance(clients.default.backend, NullBackend)
    assert clients.get(-1) is clients.get(None) is clients.default


async def test_unknown_or_broken_types_are_recorded_not_raised() -> None:
    clients = CloudClients(registry())
    for cloud_id, kind in [(None, "nope"), (2, "failing"), (3, "odd")]:
        assert clients.add(BackendConfig(cloud_id=cloud_id, name=f"c{cloud_id}", type=kind)) is None
    assert "unknown compute backend 'nope'" in clients.errors[None]
    assert "url is required" in clients.errors[2]
    assert "not a ComputeBackend" in clients.errors[3]
    assert len(clients) == 0
    try:
        clients.require(2)
    except CloudConfigurationError as exc:
        assert "url is required" in str(exc)
    else:
        raise AssertionError("require must raise")


async def add_cloud(session: AsyncSession, name: str, kind: str, **parameters: str) -> int:
    cloud = CloudProviderConfiguration(
        type=kind, name=name, server_name_prefix=name.upper(), visible=name != "hidden"
    )
    cloud.parameters = [
        CloudProviderConfigurationParameter(key=k, value=v) for k, v in parameters.items()
    ]
    session.add(cloud)
    await session.flush()
    return cloud.id


async def test_clients_from_database_rows(db_session: AsyncSession) -> None:
    settings = load_settings(default_cloud_provider_type="recorder")
    first = await add_cloud(db_session, "alpha", "recorder", url="http://a", authToken="null")
    hidden = await add_cloud(db_session, "hidden", "recorder")
    broken = await add_cloud(db_session, "broken", "failing")
    deleted = await add_cloud(db_session, "gone", "recorder")
    gone = await db_session.get(CloudProviderConfiguration, deleted)
    assert gone is not None
    from datetime import UTC, datetime

    gone.deleted_at = datetime.now(UTC)
    await db_session.commit()

    clients = await load_cloud_clients(settings, registry(), db_session)
    assert [c.id for c in clients] == [None, first, hidden]
    alpha = clients.require(first)
    assert (alpha.name, alpha.type, alpha.server_name_prefix) == ("alpha", "recorder", "ALPHA")
    assert isinstance(alpha.backend, Recorder)
    assert alpha.backend.config is not None
    assert alpha.backend.config.parameters == {"url": "http://a"}
    assert clients.require(hidden).visible is False
    assert "url is required" in clients.errors[broken]
    assert clients.get(deleted) is None

    # an admin edits a cloud: the replica rebuilds that client only
    row = await db_session.get(CloudProviderConfiguration, first)
    assert row is not None
    row.name = "alpha-2"
    await db_session.commit()
    old = alpha.backend
    await clients.reload(first, db_session, settings)
    assert clients.require(first).name == "alpha-2"
    assert clients.require(first).uuid != alpha.uuid
    assert old.closed

    await clients.remove(hidden)
    assert clients.get(hidden) is None
    await clients.close()
    assert len(clients) == 0
