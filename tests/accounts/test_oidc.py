"""The oidc provider against a fake issuer: signature, claims, expiry, key rotation."""

from __future__ import annotations

from typing import Any

import pytest

from visa_auth import oidc
from visa_auth.oidc import OidcAccountProvider
from visa_platform.accounts.contract import AccountProviderUnavailable
from visa_platform.testing.fake_oidc import FakeOidcIssuer


def provider(issuer: FakeOidcIssuer, **changes: Any) -> OidcAccountProvider:
    options: dict[str, Any] = {
        "issuer": issuer.issuer,
        "audience": "visa",
        "jwks_url": None,
        "algorithms": ["RS256"],
        "leeway": 0,
        "claims": {
            "user_id": "sub",
            "username": "preferred_username",
            "first_name": "given_name",
            "last_name": "family_name",
            "email": "email",
        },
        "timeout_seconds": 5,
    }
    options.update(changes)
    return OidcAccountProvider(**options)


CLAIMS = {
    "sub": "1001",
    "aud": "visa",
    "preferred_username": "ada",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "email": "ada@example.org",
}


async def test_valid_token(fake_oidc: FakeOidcIssuer) -> None:
    checker = provider(fake_oidc)
    try:
        account = await checker.authenticate(fake_oidc.issue(CLAIMS))
    finally:
        await checker.aclose()
    assert account is not None
    assert (
        account.user_id,
        account.username,
        account.first_name,
        account.last_name,
        account.email,
    ) == ("1001", "ada", "Ada", "Lovelace", "ada@example.org")


@pytest.mark.parametrize(
    "tamper",
    [
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "no-subject",
        "garbage",
        "bad-signature",
        "alg-none",
        "unknown-kid",
    ],
)
async def test_invalid_tokens_are_refused(fake_oidc: FakeOidcIssuer, tamper: str) -> None:
    import jwt as pyjwt

    if tamper == "expired":
        token = fake_oidc.issue(CLAIMS, lifetime=-60)
    elif tamper == "wrong-audience":
        token = fake_oidc.issue({**CLAIMS, "aud": "other"})
    elif tamper == "wrong-issuer":
        token = fake_oidc.issue({**CLAIMS, "iss": "https://evil.example"})
    elif tamper == "no-subject":
        token = fake_oidc.issue({k: v for k, v in CLAIMS.items() if k != "sub"})
    elif tamper == "garbage":
        token = "not.a.jwt"
    elif tamper == "bad-signature":
        head, body, _ = fake_oidc.issue(CLAIMS).split(".")
        token = f"{head}.{body}.{'A' * 43}"
    elif tamper == "alg-none":
        token = pyjwt.encode(
            {**CLAIMS, "iss": fake_oidc.issuer, "exp": 2**31}, None, algorithm="none"
        )
    else:
        other = FakeOidcIssuer()
        other.issuer = fake_oidc.issuer
        token = other.issue(CLAIMS)
    checker = provider(fake_oidc)
    try:
        assert await checker.authenticate(token) is None
    finally:
        await checker.aclose()


async def test_key_rotation_is_followed_and_refetches_are_rate_limited(
    fake_oidc: FakeOidcIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    checker = provider(fake_oidc)
    try:
        assert await checker.authenticate(fake_oidc.issue(CLAIMS)) is not None
        assert fake_oidc.jwks_calls == 1
        fake_oidc.rotate()
        rotated = fake_oidc.issue(CLAIMS)
        # within the refresh interval an unknown kid does not refetch
        assert await checker.authenticate(rotated) is None
        assert fake_oidc.jwks_calls == 1
        monkeypatch.setattr(oidc, "REFRESH_INTERVAL", 0.0)
        assert await checker.authenticate(rotated) is not None
        assert fake_oidc.jwks_calls == 2
    finally:
        await checker.aclose()


async def test_unreachable_issuer_is_unavailable() -> None:
    from visa_platform.testing.servers import free_port

    checker = OidcAccountProvider(
        issuer=f"http://127.0.0.1:{free_port()}",
        audience=None,
        jwks_url=None,
        algorithms=["RS256"],
        leeway=0,
        claims={
            "user_id": "sub",
            "username": "u",
            "first_name": "f",
            "last_name": "l",
            "email": "e",
        },
        timeout_seconds=1,
    )
    issuer = FakeOidcIssuer()
    try:
        with pytest.raises(AccountProviderUnavailable):
            await checker.authenticate(issuer.issue(CLAIMS))
    finally:
        await checker.aclose()


async def test_oidc_login_through_the_app(
    settings: Any, db_engine: Any, fake_oidc: FakeOidcIssuer
) -> None:
    from visa_platform.app import create_app
    from visa_platform.testing.accounts import bearer

    configured = settings.model_copy(
        update={
            "accounts_provider": "oidc",
            "accounts_oidc_issuer": fake_oidc.issuer,
            "accounts_oidc_audience": "visa",
        }
    )
    app = create_app(configured)
    async with app.test_app() as running:
        client = running.test_client()
        response = await client.get("/api/account", headers=bearer(fake_oidc.issue(CLAIMS)))
        assert response.status_code == 200
        assert (await response.get_json())["data"]["email"] == "ada@example.org"
        forged = fake_oidc.issue({**CLAIMS, "aud": "nope"})
        assert (await client.get("/api/account", headers=bearer(forged))).status_code == 401
