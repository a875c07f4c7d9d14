"""The application's cloud clients, built at start-up (spec/domain.md §7 "build cloud clients").

A default cloud that cannot work is a configuration error naming its variables, so that the
server refuses to start rather than failing every instance later: a type set explicitly that no
plugin provides, or parameters that the backend rejects. A default cloud with *no* parameters
at all (a fresh install, the quickstart) only logs a warning: the server runs without it.
Database clouds that cannot be built are logged and left out (``CloudClients.errors``).

With several replicas, a cloud changed through one of them is rebuilt by the others
(spec desktop-security-cloud.md §5.2, VISA's ``CloudClientUpdateEvent``/``DeleteEvent``):
:func:`announce_cloud_change` broadcasts ``CloudClientUpdate`` ``{cloudClientId,
serverSpecificUuid}`` or ``CloudClientDelete`` ``{cloudClientId, serverSpecificUuid}``, and
:func:`sync_cloud_clients` makes every other replica rebuild (from the database) or drop it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from visa_platform.compute import CloudClients, default_cloud_config, load_cloud_clients
from visa_platform.compute.clients import DEFAULT_CLOUD_PARAMETERS, NULL_TYPE
from visa_platform.config import ConfigError, Settings
from visa_platform.plugin.registry import Registry

log = logging.getLogger("visa_platform.compute")

TYPE_VARIABLE = "VISA_DEFAULT_CLOUD_PROVIDER_TYPE"


def variable_of(parameter: str) -> str:
    """The environment variable that gives a default-cloud parameter."""
    return "VISA_" + DEFAULT_CLOUD_PARAMETERS[parameter].upper()


def _configured(settings: Settings) -> bool:
    """Whether anybody configured the default cloud (its type or any of its parameters)."""
    config = default_cloud_config(settings)
    return config is not None and (
        bool(config.parameters) or "default_cloud_provider_type" in settings.model_fields_set
    )


def _unknown_type(settings: Settings, registry: Registry) -> None:
    config = default_cloud_config(settings)
    if (
        config is not None
        and config.type != NULL_TYPE
        and config.type not in registry
        and _configured(settings)
    ):
        known = ", ".join([NULL_TYPE, *registry.ids()])
        raise ConfigError(
            f"{TYPE_VARIABLE}: unknown compute backend {config.type!r} (known: {known})"
        )


async def _check_default(settings: Settings, clients: CloudClients) -> None:
    config = default_cloud_config(settings)
    error = clients.errors.get(None)
    if config is None or error is None:
        return
    if not config.parameters:
        log.warning(
            "cloud=default type=%s outcome=not_configured error=%r hint=%r",
            config.type,
            error,
            f"set the VISA_CLOUD_* variables, or {TYPE_VARIABLE}=null for no default cloud",
        )
        return
    await clients.close()
    mentioned = [variable_of(k) for k in DEFAULT_CLOUD_PARAMETERS if k in error]
    where = ", ".join(mentioned) if mentioned else "the VISA_CLOUD_* variables"
    raise ConfigError(
        f"{TYPE_VARIABLE}={config.type}: the default cloud is misconfigured "
        f"(check {where}): {' '.join(error.split())}"
    )


async def check_default_cloud(settings: Settings, registry: Registry) -> None:
    """Build the default cloud once and drop it: ``ConfigError`` if it cannot work."""
    _unknown_type(settings, registry)
    clients = await load_cloud_clients(settings, registry)
    try:
        await _check_default(settings, clients)
    finally:
        await clients.close()


async def open_cloud_clients(
    settings: Settings, registry: Registry, sessions: async_sessionmaker[AsyncSession]
) -> CloudClients:
    """Every cloud client; ``ConfigError`` when the default cloud is unknown or misconfigured."""
    _unknown_type(settings, registry)
    async with sessions() as session:
        clients = await load_cloud_clients(settings, registry, session)
    await _check_default(settings, clients)
    return clients


CLOUD_CLIENT_UPDATE = "CloudClientUpdate"
CLOUD_CLIENT_DELETE = "CloudClientDelete"


async def announce_cloud_change(runtime: Any, cloud_id: int, *, deleted: bool = False) -> None:
    """Tell the other replicas that a database cloud changed (this one rebuilt it already)."""
    payload = {"cloudClientId": cloud_id, "serverSpecificUuid": runtime.replica_id}
    await runtime.broker.broadcast(CLOUD_CLIENT_DELETE if deleted else CLOUD_CLIENT_UPDATE, payload)


def sync_cloud_clients(
    runtime: Any, changed: Callable[[CloudClients, int], None] | None = None
) -> Callable[[], None]:
    """Rebuild or drop this replica's client of a cloud another replica changed.

    ``changed(clients, cloud_id)`` is called after each (to forget cached views). Returns the
    function that stops listening.
    """

    async def apply(payload: dict[str, Any], deleted: bool) -> None:
        if payload.get("serverSpecificUuid") == runtime.replica_id:
            return  # ours: rebuilt before it was announced
        clients: CloudClients | None = runtime.clouds
        try:
            cloud_id = int(payload["cloudClientId"])
        except (KeyError, TypeError, ValueError):
            log.warning("event=cloud_sync_malformed payload=%r", payload)
            return
        if clients is None or cloud_id <= 0:
            return
        if deleted:
            await clients.remove(cloud_id)
        else:
            async with runtime.session() as session:
                await clients.reload(cloud_id, session, runtime.settings)
        log.info("event=cloud_client_synced cloud=%s deleted=%s", cloud_id, deleted)
        if changed is not None:
            changed(clients, cloud_id)

    async def on_update(payload: dict[str, Any]) -> None:
        await apply(payload, False)

    async def on_delete(payload: dict[str, Any]) -> None:
        await apply(payload, True)

    stops = [
        runtime.broker.listen(CLOUD_CLIENT_UPDATE, on_update),
        runtime.broker.listen(CLOUD_CLIENT_DELETE, on_delete),
    ]

    def stop() -> None:
        for unlisten in stops:
            unlisten()

    return stop


__all__ = [
    "CLOUD_CLIENT_DELETE",
    "CLOUD_CLIENT_UPDATE",
    "announce_cloud_change",
    "check_default_cloud",
    "open_cloud_clients",
    "sync_cloud_clients",
    "variable_of",
]
