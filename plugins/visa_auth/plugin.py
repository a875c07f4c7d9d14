"""Hook implementations of the default authentication plugin."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from visa_auth import basic
from visa_auth.accounts_service import AccountsServiceProvider
from visa_auth.oidc import OidcAccountProvider
from visa_platform.accounts.contract import AccountProviderUnavailable
from visa_platform.accounts.static import StaticAccountProvider
from visa_platform.db.types import utcnow
from visa_platform.domain.errors import Unavailable
from visa_platform.domain.principal import Principal, PrincipalKind
from visa_platform.plugin import hookimpl
from visa_platform.plugin.types import RequestCredentials
from visa_platform.services import users

log = logging.getLogger("visa_auth")


@hookimpl
def visa_register_account_providers(register: Any) -> None:
    register.add(
        "accounts-service",
        AccountsServiceProvider.from_settings,
        description="VISA's accounts service (x-access-token), as the Java server uses it",
    )
    register.add(
        "oidc",
        OidcAccountProvider.from_settings,
        description="bearer JWTs validated against the issuer's JWKS (no side service)",
    )
    register.add(
        "static",
        StaticAccountProvider.from_settings,
        description="tokens listed in a local file; for trials on the embedded defaults",
    )


@hookimpl(trylast=True)
async def visa_authenticate_request(
    credentials: RequestCredentials, session: AsyncSession, runtime: Any
) -> Principal | None:
    header = credentials.header("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return await _bearer(value, session, runtime)
    if scheme == "basic":
        decoded = basic.decode(value)
        if decoded is None:
            return None
        return await basic.instance_principal(
            session, *decoded
        ) or await basic.application_principal(session, *decoded)
    return None


async def _bearer(token: str, session: AsyncSession, runtime: Any) -> Principal | None:
    """The token's principal: from the 30-second cache, else the provider plus provisioning."""
    provider = runtime.account_provider
    if provider is None or not token:
        return None
    cached: Principal | None = runtime.principal_cache.get(token)
    if cached is not None:
        return cached
    try:
        account = await provider.authenticate(token)
    except AccountProviderUnavailable as exc:
        log.warning("event=authentication outcome=provider_unavailable reason=%r", str(exc))
        raise Unavailable("the account provider is not available") from exc
    if account is None:
        return None
    result = await users.login(session, account, runtime.settings.instance_user_default_quota)
    await session.commit()
    if result.first_login:
        from visa_platform.plugin.types import UserEvent

        await runtime.plugins.user_logged_in(
            UserEvent(
                user_id=result.user.id,
                username=account.username,
                first_login=True,
                occurred_at=result.user.last_seen_at or utcnow(),
                attributes=dict(account.parameters),
            )
        )
    principal = Principal(
        user_id=result.user.id,
        kind=PrincipalKind.USER,
        roles=result.roles,
        username=account.username,
        attributes=dict(account.parameters),
    )
    runtime.principal_cache.put(token, principal)
    return principal
