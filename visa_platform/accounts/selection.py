"""Choosing and building the configured account provider."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import make_url

from visa_platform.accounts.contract import AccountProvider
from visa_platform.config import ConfigError
from visa_platform.plugin.registry import Registry, RegistryError

log = logging.getLogger("visa_platform.accounts")

STATIC = "static"
ACCOUNTS_SERVICE = "accounts-service"


def provider_id(settings: Any) -> str:
    """``VISA_ACCOUNTS_PROVIDER``, else accounts-service when its URL is set, else static."""
    if settings.accounts_provider:
        return str(settings.accounts_provider)
    return ACCOUNTS_SERVICE if settings.accounts_service_client_url else STATIC


def check(settings: Any, registry: Registry) -> str:
    """Validate the choice without building anything; returns the provider id."""
    chosen = provider_id(settings)
    if chosen not in registry:
        known = ", ".join(registry.ids()) or "none installed"
        raise ConfigError(f"VISA_ACCOUNTS_PROVIDER: unknown account provider {chosen!r} ({known})")
    backend = make_url(settings.sqlalchemy_url()).get_backend_name()
    if chosen == STATIC and backend != "sqlite" and not settings.accounts_static_allow_postgresql:
        raise ConfigError(
            "VISA_ACCOUNTS_PROVIDER: the static account provider is for trials on the embedded "
            "SQLite database; configure a real provider (VISA_ACCOUNTS_SERVICE_CLIENT_URL or "
            "VISA_ACCOUNTS_PROVIDER) or set VISA_ACCOUNTS_STATIC_ALLOW_POSTGRESQL=true"
        )
    if chosen == ACCOUNTS_SERVICE and not settings.accounts_service_client_url:
        raise ConfigError(
            "VISA_ACCOUNTS_SERVICE_CLIENT_URL: required by the accounts-service provider"
        )
    return chosen


def create(settings: Any, registry: Registry) -> AccountProvider | None:
    """Build the configured provider; ``None`` when no provider is installed at all (then bearer
    tokens are refused, which a warning says)."""
    if len(registry) == 0:
        log.warning("event=no_account_provider outcome=bearer_tokens_refused")
        return None
    chosen = check(settings, registry)
    try:
        provider = registry.create(chosen, settings)
    except (RegistryError, ConfigError):
        raise
    if not isinstance(provider, AccountProvider):
        raise ConfigError(
            f"VISA_ACCOUNTS_PROVIDER: {chosen!r} did not build an account provider "
            f"(got {type(provider).__name__})"
        )
    return provider
