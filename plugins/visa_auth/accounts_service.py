"""The ``accounts-service`` provider: VISA's accounts service (spec/desktop-security-cloud.md §2.2).

``GET <VISA_ACCOUNTS_SERVICE_CLIENT_URL>`` with header ``x-access-token: <token>``. 200 gives
``{username, user: {id, firstName, lastName, email}, accountParameters}``; 401 means the token is
not valid; anything else (or no answer within the timeout) means the service is unavailable.
"""

from __future__ import annotations

from typing import Any

import httpx

from visa_platform.accounts.contract import Account, AccountProviderUnavailable


class AccountsServiceProvider:
    """Asks the accounts service about each token (the host caches answers for 30 s)."""

    def __init__(self, url: str, timeout_seconds: float, transport: Any = None) -> None:
        self._url = url
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), transport=transport, follow_redirects=False
        )

    @classmethod
    def from_settings(cls, settings: Any) -> AccountsServiceProvider:
        return cls(
            settings.accounts_service_client_url, settings.accounts_request_timeout_ms / 1000
        )

    async def authenticate(self, token: str) -> Account | None:
        try:
            response = await self._client.get(
                self._url, headers={"x-access-token": token, "accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise AccountProviderUnavailable(f"accounts service: {type(exc).__name__}") from exc
        if response.status_code == 401:
            return None
        if response.status_code != 200:
            raise AccountProviderUnavailable(f"accounts service answered {response.status_code}")
        try:
            return parse_account(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise AccountProviderUnavailable(f"accounts service: malformed answer ({exc})") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def parse_account(body: Any) -> Account:
    """The accounts service's JSON as an :class:`Account` (raises on a malformed body)."""
    user = body["user"]
    user_id = user["id"]
    if user_id is None or not str(user_id).strip():
        raise ValueError("user.id is missing")
    parameters = body.get("accountParameters") or {}
    if not isinstance(parameters, dict):
        raise TypeError("accountParameters is not an object")
    return Account(
        user_id=str(user_id),
        username=body.get("username"),
        first_name=user.get("firstName"),
        last_name=user.get("lastName"),
        email=user.get("email"),
        parameters={str(k): "" if v is None else str(v) for k, v in parameters.items()},
    )
