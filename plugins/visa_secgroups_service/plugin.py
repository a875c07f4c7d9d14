"""Hook implementations of the security-group service plugin.

The client is opened at application start-up from the settings (``visa_startup``) and closed at
shutdown; while it is not configured, the plugin has no opinion.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.plugin import hookimpl
from visa_platform.plugin.types import SecurityGroupQuery
from visa_secgroups_service.client import SecurityGroupServiceClient
from visa_secgroups_service.instance_json import instance_json

_state: dict[str, SecurityGroupServiceClient] = {}


def client() -> SecurityGroupServiceClient | None:
    """The client of the running application, if the service is configured."""
    return _state.get("client")


async def configure(settings: Any) -> None:
    """(Re)build the client from ``settings`` (closing any previous one)."""
    await close()
    new = SecurityGroupServiceClient.from_settings(settings)
    if new is not None:
        _state["client"] = new


async def close() -> None:
    old = _state.pop("client", None)
    if old is not None:
        await old.aclose()


@hookimpl
async def visa_startup(app: Any) -> None:
    await configure(app.config["VISA_SETTINGS"])


@hookimpl
async def visa_shutdown(app: Any) -> None:
    await close()


@hookimpl
async def visa_instance_security_groups(
    query: SecurityGroupQuery, session: AsyncSession
) -> list[str] | None:
    """The service's custom groups (after the database groups); ``None`` when not configured."""
    service = client()
    if service is None:
        return None
    body = await instance_json(session, query.instance_id, query.cloud_id)
    if body is None:
        return []
    return await service.security_groups(body)
