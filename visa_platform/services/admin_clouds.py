"""Cloud clients as the admin API lists them: the default cloud (id -1) and the database rows.

Secrets (application secret, web provider token) are never returned: they show as
:data:`MASK`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.compute.clients import DEFAULT_CLOUD_ID, NULL_TYPE
from visa_platform.db.models import (
    CloudProviderConfiguration,
    CloudProviderConfigurationParameter,
    Image,
    Instance,
    Plan,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.errors import BadRequest, NotFound

MASK = "********"
SECRET_KEYS = frozenset({"applicationSecret", "authToken"})


@dataclass(frozen=True)
class CloudClientView:
    """One cloud client; ``parameters`` are the row's (secrets masked), empty for the default."""

    id: int
    name: str
    type: str
    server_name_prefix: str
    visible: bool
    parameters: dict[str, str] = field(default_factory=dict)


def default_cloud(settings: Any) -> CloudClientView | None:
    if not settings.cloud_default_provider_enabled:
        return None
    return CloudClientView(
        id=DEFAULT_CLOUD_ID,
        name=settings.default_cloud_provider_name,
        type=settings.default_cloud_provider_type or NULL_TYPE,
        server_name_prefix=settings.cloud_server_name_prefix,
        visible=True,
    )


def _view(row: CloudProviderConfiguration) -> CloudClientView:
    return CloudClientView(
        id=row.id,
        name=row.name or f"cloud-{row.id}",
        type=row.type,
        server_name_prefix=row.server_name_prefix,
        visible=row.visible,
        parameters={p.key: MASK if p.key in SECRET_KEYS else p.value for p in row.parameters},
    )


async def cloud_clients(session: AsyncSession, settings: Any) -> list[CloudClientView]:
    """The default cloud (when enabled) then the non-deleted rows by id."""
    rows = await session.scalars(
        select(CloudProviderConfiguration)
        .options(selectinload(CloudProviderConfiguration.parameters))
        .where(CloudProviderConfiguration.deleted_at.is_(None))
        .order_by(CloudProviderConfiguration.id)
    )
    default = default_cloud(settings)
    return ([default] if default is not None else []) + [_view(r) for r in rows]


async def cloud_clients_by_id(
    session: AsyncSession, settings: Any, ids: Iterable[int]
) -> dict[int, CloudClientView]:
    """The clients of ``ids`` (-1 = default); deleted rows are included (instances keep them)."""
    wanted = {i for i in ids if i != DEFAULT_CLOUD_ID}
    found: dict[int, CloudClientView] = {}
    if DEFAULT_CLOUD_ID in set(ids):
        default = default_cloud(settings)
        if default is not None:
            found[DEFAULT_CLOUD_ID] = default
    if wanted:
        rows = await session.scalars(
            select(CloudProviderConfiguration)
            .options(selectinload(CloudProviderConfiguration.parameters))
            .where(CloudProviderConfiguration.id.in_(wanted))
        )
        found.update({r.id: _view(r) for r in rows})
    return found


def cloud_key(cloud_id: int | None) -> int:
    """A ``cloud_provider_configuration_id`` as the API shows it (NULL = -1)."""
    return DEFAULT_CLOUD_ID if cloud_id is None else cloud_id


# -- changes -----------------------------------------------------------------------------------

TYPE_KEYS = {
    "openstack": (
        "applicationId",
        "applicationSecret",
        "computeEndpoint",
        "placementEndpoint",
        "imageEndpoint",
        "networkEndpoint",
        "identityEndpoint",
        "addressProvider",
        "addressProviderUUID",
    ),
    "web": ("url", "authToken"),
}
OPTIONAL_KEYS = frozenset({"placementEndpoint"})


@dataclass(frozen=True)
class CloudClientChange:
    """``CloudClientInput``; ``parameters`` come from the configuration input of its type
    (a secret given as :data:`MASK` keeps the stored value)."""

    type: str
    name: str
    server_name_prefix: str
    visible: bool
    parameters: dict[str, str | None]


def _checked(change: CloudClientChange) -> dict[str, str]:
    keys = TYPE_KEYS.get(change.type)
    if keys is None:
        raise BadRequest('type must be "openstack" or "web"')
    if not change.parameters:
        which = "openStack" if change.type == "openstack" else "web"
        raise BadRequest(f"a {change.type} cloud needs {which}ProviderConfiguration")
    if not change.name.strip() or len(change.name) > 100:
        raise BadRequest("a cloud client name needs 1 to 100 characters")
    if not change.server_name_prefix.strip() or len(change.server_name_prefix) > 100:
        raise BadRequest("serverNamePrefix needs 1 to 100 characters")
    values: dict[str, str] = {}
    for key in keys:
        value = change.parameters.get(key)
        if value is None or not value.strip():
            if key in OPTIONAL_KEYS:
                continue
            raise BadRequest(f"{key} is required")
        values[key] = value
    return values


async def _row(session: AsyncSession, cloud_id: int) -> CloudProviderConfiguration:
    if cloud_id == DEFAULT_CLOUD_ID:
        raise BadRequest("the default cloud client is configured by the environment")
    row = await session.scalar(
        select(CloudProviderConfiguration)
        .options(selectinload(CloudProviderConfiguration.parameters))
        .where(CloudProviderConfiguration.id == cloud_id)
        .execution_options(populate_existing=True)
    )
    if row is None or row.deleted_at is not None:
        raise NotFound(f"Cloud client with id {cloud_id} not found")
    return row


def _apply(row: CloudProviderConfiguration, change: CloudClientChange) -> None:
    values = _checked(change)
    stored = {p.key: p.value for p in row.parameters}
    for key in SECRET_KEYS:
        if values.get(key) == MASK and key in stored:
            values[key] = stored[key]
    if MASK in values.values():
        raise BadRequest("a secret is required")
    row.type = change.type
    row.name = change.name.strip()
    row.server_name_prefix = change.server_name_prefix.strip()
    row.visible = change.visible
    by_key = {p.key: p for p in row.parameters}
    row.parameters = [
        _parameter(by_key.get(key), key, value) for key, value in sorted(values.items())
    ]


def _parameter(
    existing: CloudProviderConfigurationParameter | None, key: str, value: str
) -> CloudProviderConfigurationParameter:
    if existing is None:
        return CloudProviderConfigurationParameter(key=key, value=value)
    existing.value = value
    return existing


async def create(session: AsyncSession, change: CloudClientChange) -> CloudClientView:
    row = CloudProviderConfiguration()
    row.parameters = []
    _apply(row, change)
    session.add(row)
    await session.flush()
    return _view(await _row(session, row.id))


async def update(
    session: AsyncSession, cloud_id: int, change: CloudClientChange
) -> CloudClientView:
    row = await _row(session, cloud_id)
    _apply(row, change)
    await session.flush()
    return _view(await _row(session, row.id))


async def delete(session: AsyncSession, cloud_id: int) -> bool:
    """Soft delete; refused while non-deleted instances run on the cloud."""
    row = await _row(session, cloud_id)
    used = await session.scalar(
        select(func.count())
        .select_from(Instance)
        .join(Plan, Plan.id == Instance.plan_id)
        .join(Image, Image.id == Plan.image_id)
        .where(Instance.deleted_at.is_(None), Image.cloud_provider_configuration_id == row.id)
    )
    if used:
        raise BadRequest(f"cloud client {cloud_id} still has {used} instance(s)")
    row.deleted_at = utcnow()
    await session.flush()
    return True
