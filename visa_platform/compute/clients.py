"""Cloud clients: one backend object per cloud (spec §3.1, CloudClient).

The default cloud (VISA id -1, ``None`` in ``cloud_provider_configuration_id`` columns) comes from
``VISA_DEFAULT_CLOUD_PROVIDER_TYPE`` and the ``VISA_CLOUD_*`` settings; the other clouds are the
non-deleted ``cloud_provider_configuration`` rows with their parameters. The type picks a factory
from the ``compute backend`` registry; type ``null`` is the built-in :class:`NullBackend`.
A cloud whose backend cannot be built is recorded in :attr:`CloudClients.errors` and left out,
so that one broken configuration never stops the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.compute.backend import ComputeBackend
from visa_platform.compute.errors import CloudConfigurationError
from visa_platform.compute.null import NullBackend
from visa_platform.compute.types import BackendConfig
from visa_platform.plugin.registry import Registry, RegistryError

log = logging.getLogger("visa_platform.compute")

#: VISA's internal id of the default cloud.
DEFAULT_CLOUD_ID = -1
NULL_TYPE = "null"

#: ``cloud_provider_configuration_parameter`` keys and the settings that give them for the
#: default cloud (spec §3.3, §3.4).
DEFAULT_CLOUD_PARAMETERS: dict[str, str] = {
    "identityEndpoint": "cloud_identity_endpoint",
    "computeEndpoint": "cloud_compute_endpoint",
    "placementEndpoint": "cloud_placement_endpoint",
    "imageEndpoint": "cloud_image_endpoint",
    "networkEndpoint": "cloud_network_endpoint",
    "applicationId": "cloud_application_id",
    "applicationSecret": "cloud_application_secret",
    "addressProvider": "cloud_address_provider",
    "addressProviderUUID": "cloud_address_provider_uuid",
    "url": "cloud_web_provider_url",
    "authToken": "cloud_web_provider_auth_token",
}


def clean_parameters(parameters: Mapping[str, Any]) -> dict[str, str]:
    """Parameters as strings, without the values VISA treats as missing (``""``, ``"null"``)."""
    cleaned: dict[str, str] = {}
    for key, value in parameters.items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        text = str(value).strip()
        if text and text.lower() != "null":
            cleaned[str(key)] = text
    return cleaned


@dataclass(frozen=True, kw_only=True)
class CloudClient:
    """A cloud the platform manages instances on, with its backend object."""

    id: int | None
    name: str
    type: str
    server_name_prefix: str
    visible: bool
    backend: ComputeBackend
    #: Identifies this client object in this process (VISA's per-process uuid).
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def is_default(self) -> bool:
        return self.id is None


def _normalise_id(cloud_id: int | None) -> int | None:
    return None if cloud_id is None or cloud_id == DEFAULT_CLOUD_ID else cloud_id


def build_backend(registry: Registry, config: BackendConfig) -> ComputeBackend:
    """Call the factory of ``config.type``; every failure becomes ``CloudConfigurationError``."""
    if config.type == NULL_TYPE:
        return NullBackend(config)
    try:
        backend = registry.create(config.type, config)
    except CloudConfigurationError:
        raise
    except RegistryError as exc:
        raise CloudConfigurationError(str(exc)) from exc
    except Exception as exc:
        raise CloudConfigurationError(
            f"compute backend {config.type!r} failed to build cloud {config.name!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(backend, ComputeBackend):
        raise CloudConfigurationError(
            f"compute backend {config.type!r} built a {type(backend).__name__}, "
            "not a ComputeBackend"
        )
    return backend


def default_cloud_config(settings: Any) -> BackendConfig | None:
    """The default cloud's configuration, or ``None`` when it is disabled."""
    if not settings.cloud_default_provider_enabled:
        return None
    parameters = {key: getattr(settings, name) for key, name in DEFAULT_CLOUD_PARAMETERS.items()}
    return BackendConfig(
        cloud_id=None,
        name=settings.default_cloud_provider_name,
        type=settings.default_cloud_type() or NULL_TYPE,
        parameters=clean_parameters(parameters),
        server_name_prefix=settings.cloud_server_name_prefix,
        connect_timeout=settings.cloud_rest_client_connect_timeout_ms / 1000,
        read_timeout=settings.cloud_rest_client_read_timeout_ms / 1000,
        state_directory=_state_directory(settings, "default"),
    )


def _state_directory(settings: Any, name: str) -> Path | None:
    data_dir = getattr(settings, "data_dir", None)
    return None if data_dir is None else Path(data_dir).resolve() / "clouds" / name


def row_cloud_config(row: Any, settings: Any) -> BackendConfig:
    """The configuration of a ``cloud_provider_configuration`` row (parameters loaded)."""
    return BackendConfig(
        cloud_id=row.id,
        name=row.name or f"cloud-{row.id}",
        type=(row.type or NULL_TYPE).strip().lower(),
        parameters=clean_parameters({p.key: p.value for p in row.parameters}),
        server_name_prefix=row.server_name_prefix,
        connect_timeout=settings.cloud_rest_client_connect_timeout_ms / 1000,
        read_timeout=settings.cloud_rest_client_read_timeout_ms / 1000,
        state_directory=_state_directory(settings, str(row.id)),
    )


class CloudClients:
    """The cloud clients of this process, by cloud id (``None`` or -1 = the default cloud)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._clients: dict[int | None, CloudClient] = {}
        #: Clouds that could not be built: cloud id -> reason.
        self.errors: dict[int | None, str] = {}

    def add(self, config: BackendConfig, *, visible: bool = True) -> CloudClient | None:
        """Build and add (or replace) the client of ``config``; on failure record the reason."""
        cloud_id = _normalise_id(config.cloud_id)
        try:
            backend = build_backend(self._registry, config)
        except CloudConfigurationError as exc:
            self.errors[cloud_id] = str(exc)
            self._clients.pop(cloud_id, None)
            log.error(
                "cloud=%s type=%s outcome=not_built error=%r", cloud_id, config.type, str(exc)
            )
            return None
        self.errors.pop(cloud_id, None)
        client = CloudClient(
            id=cloud_id,
            name=config.name,
            type=config.type,
            server_name_prefix=config.server_name_prefix,
            visible=visible,
            backend=backend,
        )
        self._clients[cloud_id] = client
        return client

    def get(self, cloud_id: int | None) -> CloudClient | None:
        """The client of ``cloud_id`` (``None``/-1 = default), or ``None`` when there is none."""
        return self._clients.get(_normalise_id(cloud_id))

    def require(self, cloud_id: int | None) -> CloudClient:
        """Like :meth:`get`, but a missing cloud is a ``CloudConfigurationError`` saying why."""
        client = self.get(cloud_id)
        if client is None:
            reason = self.errors.get(_normalise_id(cloud_id), "no such cloud client")
            raise CloudConfigurationError(f"cloud {cloud_id} is not available: {reason}")
        return client

    @property
    def default(self) -> CloudClient | None:
        return self._clients.get(None)

    async def remove(self, cloud_id: int | None) -> None:
        """Drop a client (its cloud was deleted) and close its backend."""
        key = _normalise_id(cloud_id)
        self.errors.pop(key, None)
        client = self._clients.pop(key, None)
        if client is not None:
            await client.backend.close()

    async def reload(self, cloud_id: int, session: AsyncSession, settings: Any) -> None:
        """Rebuild one database cloud after it changed (VISA's CloudClientUpdateEvent)."""
        from visa_platform.db.models.cloud import CloudProviderConfiguration

        old = self._clients.get(cloud_id)
        row = await session.scalar(
            select(CloudProviderConfiguration)
            .where(CloudProviderConfiguration.id == cloud_id)
            .options(selectinload(CloudProviderConfiguration.parameters))
        )
        if row is None or row.deleted_at is not None:
            await self.remove(cloud_id)
            return
        self.add(row_cloud_config(row, settings), visible=row.visible)
        if old is not None:
            await old.backend.close()

    async def close(self) -> None:
        """Close every backend."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.backend.close()
            except Exception:
                log.exception("cloud=%s outcome=close_failed", client.id)

    def __iter__(self) -> Iterator[CloudClient]:
        """Default cloud first, then by id."""
        return iter(sorted(self._clients.values(), key=lambda c: (c.id is not None, c.id or 0)))

    def __len__(self) -> int:
        return len(self._clients)


async def load_cloud_clients(
    settings: Any, registry: Registry, session: AsyncSession | None = None
) -> CloudClients:
    """Every cloud client: the default one from settings, the others from the database."""
    from visa_platform.db.models.cloud import CloudProviderConfiguration

    clients = CloudClients(registry)
    default = default_cloud_config(settings)
    if default is not None:
        clients.add(default)
    if session is not None:
        rows = await session.scalars(
            select(CloudProviderConfiguration)
            .where(CloudProviderConfiguration.deleted_at.is_(None))
            .options(selectinload(CloudProviderConfiguration.parameters))
            .order_by(CloudProviderConfiguration.id)
        )
        for row in rows:
            clients.add(row_cloud_config(row, settings), visible=row.visible)
    return clients


__all__ = [
    "DEFAULT_CLOUD_ID",
    "DEFAULT_CLOUD_PARAMETERS",
    "NULL_TYPE",
    "CloudClient",
    "CloudClients",
    "build_backend",
    "clean_parameters",
    "default_cloud_config",
    "load_cloud_clients",
    "row_cloud_config",
]
