"""Client of the security-group service: ``POST <url>`` the instance, read ``[{id, name}]``."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger("visa_secgroups_service")


class SecurityGroupServiceClient:
    """Asks the service for an instance's custom groups; any failure means no custom groups."""

    def __init__(self, url: str, auth_token: str | None, timeout: float = 10.0) -> None:
        self.url = url
        headers = {"x-auth-token": auth_token} if auth_token else {}
        self._http = httpx.AsyncClient(headers=headers, timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Any) -> SecurityGroupServiceClient | None:
        """A client when ``…_CLIENT_ENABLED`` and ``…_CLIENT_URL`` are set, else ``None``."""
        url = settings.security_group_service_client_url
        if not settings.security_group_service_client_enabled or not url:
            return None
        token = settings.security_group_service_client_auth_token
        return cls(url, token.get_secret_value() if token is not None else None)

    async def security_groups(self, instance: dict[str, Any]) -> list[str]:
        """The names the service answers for ``instance``; ``[]`` (logged) on any error."""
        try:
            response = await self._http.post(self.url, json=instance)
        except httpx.HTTPError as exc:
            log.error(
                "event=security_group_service instance_id=%s outcome=unreachable error=%r",
                instance.get("id"),
                f"{type(exc).__name__}: {exc}",
            )
            return []
        if response.status_code != 200:
            log.error(
                "event=security_group_service instance_id=%s outcome=http_error status=%d",
                instance.get("id"),
                response.status_code,
            )
            return []
        try:
            body = response.json()
            names = [item["name"] for item in body]
            if not all(isinstance(n, str) for n in names):
                raise TypeError("a name is not a string")
        except (ValueError, TypeError, KeyError) as exc:
            log.error(
                "event=security_group_service instance_id=%s outcome=bad_response error=%r",
                instance.get("id"),
                f"{type(exc).__name__}: {exc}",
            )
            return []
        return list(dict.fromkeys(names))

    async def aclose(self) -> None:
        await self._http.aclose()
