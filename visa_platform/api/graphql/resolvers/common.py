"""Helpers shared by the resolvers: the typed context, enums and ids from arguments."""

from __future__ import annotations

from typing import Any

from visa_platform.api.graphql.context import GraphQLContext
from visa_platform.services.admin_clouds import cloud_key


def context(ctx: Any) -> GraphQLContext:
    if not isinstance(ctx, GraphQLContext):  # pragma: no cover - the blueprint always sets it
        raise TypeError("resolver called without the admin GraphQL context")
    return ctx


def cloud_id(row: Any) -> int:
    """The API's cloud id of a row with ``cloud_provider_configuration_id``."""
    return cloud_key(row.cloud_provider_configuration_id)


def settings(ctx: Any) -> Any:
    return context(ctx).runtime.settings
