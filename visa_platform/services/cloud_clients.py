"""The application's cloud clients, built at start-up (spec/domain.md §7 "build cloud clients").

A default cloud that cannot work is a configuration error naming its variables, so that the
server refuses to start rather than failing every instance later: a type set explicitly that no
plugin provides, or parameters that the backend rejects. A default cloud with *no* parameters
at all (a fresh install, the quickstart) only logs a warning: the server runs without it.
Database clouds that cannot be built are logged and left out (``CloudClients.errors``).
"""

from __future__ import annotations

import logging

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


__all__ = ["check_default_cloud", "open_cloud_clients", "variable_of"]
