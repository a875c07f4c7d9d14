"""The ``oidc`` provider: validates bearer JWTs itself against the issuer's JWKS.

No side service is needed: the signature (keys from the JWKS, found by ``kid``), issuer,
audience, expiry and not-before are checked here, then the configured claims become the account.
Keys are cached; an unknown ``kid`` (the issuer rotated its keys) refetches the JWKS, at most
once per :data:`REFRESH_INTERVAL` so that forged tokens cannot hammer the issuer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
import jwt

from visa_platform.accounts.contract import Account, AccountProviderUnavailable
from visa_platform.config import ConfigError

log = logging.getLogger("visa_auth.oidc")

KEYS_TTL = 600.0
REFRESH_INTERVAL = 30.0


class OidcAccountProvider:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str | None,
        jwks_url: str | None,
        algorithms: list[str],
        leeway: int,
        claims: dict[str, str],
        timeout_seconds: float,
        transport: Any = None,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._jwks_url = jwks_url
        self._algorithms = algorithms
        self._leeway = leeway
        self._claims = claims
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), transport=transport
        )
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> OidcAccountProvider:
        if not settings.accounts_oidc_issuer:
            raise ConfigError("VISA_ACCOUNTS_OIDC_ISSUER: required by the oidc account provider")
        return cls(
            issuer=settings.accounts_oidc_issuer,
            audience=settings.accounts_oidc_audience,
            jwks_url=settings.accounts_oidc_jwks_url,
            algorithms=list(settings.accounts_oidc_algorithms),
            leeway=settings.accounts_oidc_leeway_seconds,
            claims={
                "user_id": settings.accounts_oidc_user_id_claim,
                "username": settings.accounts_oidc_username_claim,
                "first_name": settings.accounts_oidc_first_name_claim,
                "last_name": settings.accounts_oidc_last_name_claim,
                "email": settings.accounts_oidc_email_claim,
            },
            timeout_seconds=settings.accounts_request_timeout_ms / 1000,
        )

    async def authenticate(self, token: str) -> Account | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        if header.get("alg") not in self._algorithms:
            return None
        key = await self._key(header.get("kid"))
        if key is None:
            return None
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iss"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as exc:
            log.info("event=oidc_token_refused reason=%r", type(exc).__name__)
            return None
        user_id = claims.get(self._claims["user_id"])
        if user_id is None or not str(user_id).strip():
            return None
        return Account(
            user_id=str(user_id),
            username=_text(claims.get(self._claims["username"])),
            first_name=_text(claims.get(self._claims["first_name"])),
            last_name=_text(claims.get(self._claims["last_name"])),
            email=_text(claims.get(self._claims["email"])),
        )

    async def _key(self, kid: str | None) -> Any:
        now = time.monotonic()
        if now - self._fetched_at > KEYS_TTL or (
            kid not in self._keys and now - self._fetched_at > REFRESH_INTERVAL
        ):
            async with self._lock:
                if time.monotonic() - self._fetched_at > min(REFRESH_INTERVAL, KEYS_TTL):
                    await self._refresh()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    async def _refresh(self) -> None:
        try:
            url = self._jwks_url or await self._discover()
            response = await self._client.get(url)
            response.raise_for_status()
            keys: dict[str, Any] = {}
            for entry in response.json().get("keys", []):
                if entry.get("use", "sig") != "sig":
                    continue
                try:
                    keys[entry.get("kid", "")] = jwt.PyJWK(entry).key
                except (jwt.PyJWTError, ValueError, KeyError):
                    log.warning("event=oidc_key_skipped kid=%r", entry.get("kid"))
        except (httpx.HTTPError, ValueError, json.JSONDecodeError) as exc:
            self._fetched_at = time.monotonic()  # do not retry on every request
            if not self._keys:
                raise AccountProviderUnavailable(f"OIDC keys: {type(exc).__name__}") from exc
            log.warning("event=oidc_keys_refresh outcome=kept_previous error=%r", str(exc))
            return
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def _discover(self) -> str:
        url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = await self._client.get(url)
        response.raise_for_status()
        jwks = response.json().get("jwks_uri")
        if not isinstance(jwks, str):
            raise ValueError("the discovery document has no jwks_uri")
        self._jwks_url = jwks
        return jwks

    async def aclose(self) -> None:
        await self._client.aclose()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
