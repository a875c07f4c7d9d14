"""Request authentication: bearer tokens through the account providers, Basic credentials."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import select

from visa_platform.app import create_app
from visa_platform.db.models import ApplicationCredential, Instance, User
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceState
from visa_platform.runtime import runtime
from visa_platform.services.credentials import hash_secret
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.fake_accounts import FakeAccountsService


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
async def service_client(settings: Any, db_engine: Any, fake_accounts: FakeAccountsService) -> Any:
    """The app with the accounts-service provider pointing at the fake."""
    configured = settings.model_copy(
        update={
            "accounts_provider": "accounts-service",
            "accounts_service_client_url": fake_accounts.url,
        }
    )
    app = create_app(configured)
    async with app.test_app() as running:
        yield running.test_client()


async def test_first_login_creates_the_user_and_later_logins_touch_it(
    service_client: Any, fake_accounts: FakeAccountsService, db_session: Any
) -> None:
    fake_accounts.add("jwt-1", "1001", email="ada@example.org")
    response = await service_client.get("/api/account", headers=bearer("jwt-1"))
    assert response.status_code == 200
    body = await response.get_json()
    assert body["data"]["id"] == "1001"
    assert body["data"]["fullName"] == "Ada Lovelace"
    assert body["data"]["email"] == "ada@example.org"  # kept (VISA dropped it)
    user = await db_session.get(User, "1001")
    assert user.activated_at is not None and user.instance_quota == 2
    first_seen = user.last_seen_at
    # the ETL owns names afterwards: a later login does not overwrite them
    fake_accounts.add("jwt-2", "1001", first_name="Changed")
    assert (await service_client.get("/api/account", headers=bearer("jwt-2"))).status_code == 200
    db_session.expire_all()
    user = await db_session.get(User, "1001")
    assert user.first_name == "Ada" and user.last_seen_at >= first_seen


async def test_authentications_are_cached_per_token(
    service_client: Any, fake_accounts: FakeAccountsService
) -> None:
    fake_accounts.add("jwt-1", "1001")
    for _ in range(3):
        assert (
            await service_client.get("/api/account", headers=bearer("jwt-1"))
        ).status_code == 200
    assert fake_accounts.calls == 1


async def test_invalid_token_is_401_with_a_bearer_challenge(service_client: Any) -> None:
    response = await service_client.get("/api/account", headers=bearer("forged"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    # authentication is proactive: a bad header fails even where no login is needed
    assert (
        await service_client.get("/api/configuration", headers=bearer("forged"))
    ).status_code == 401


async def test_anonymous_call_to_an_authenticated_endpoint_is_401(service_client: Any) -> None:
    response = await service_client.get("/api/account")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_accounts_service_down_is_503_and_not_cached(
    service_client: Any, fake_accounts: FakeAccountsService
) -> None:
    fake_accounts.add("jwt-1", "1001")
    fake_accounts.status = 502
    assert (await service_client.get("/api/account", headers=bearer("jwt-1"))).status_code == 503
    fake_accounts.status = None
    assert (await service_client.get("/api/account", headers=bearer("jwt-1"))).status_code == 200


async def test_the_invalid_account_is_never_stored(
    service_client: Any, fake_accounts: FakeAccountsService, db_session: Any
) -> None:
    fake_accounts.add("jwt-0", "0", first_name="Unknown", last_name="Person")
    account = await service_client.get("/api/account", headers=bearer("jwt-0"))
    assert account.status_code == 200
    assert (await account.get_json())["data"]["id"] == "0"
    quotas = await service_client.get("/api/account/quotas", headers=bearer("jwt-0"))
    assert (await quotas.get_json())["data"] == {
        "maxInstances": 0,
        "totalInstances": 0,
        "availableInstances": 0,
    }
    token = await service_client.post("/api/account/clients/c1/auth/token", headers=bearer("jwt-0"))
    assert token.status_code == 401
    assert await db_session.get(User, "0") is None


async def test_static_admin_token_gets_the_admin_role(
    client: Any, accounts: StaticAccounts
) -> None:
    response = await client.get("/api/account", headers=bearer(accounts.admin_token))
    assert response.status_code == 200
    data = (await response.get_json())["data"]
    assert data["id"] == "admin"
    assert data["activeUserRoles"] == [{"name": "ADMIN", "expiresAt": None}]


async def _instance(db_session: Any, compute_id: str | None) -> Instance:
    instance = Instance(
        uid="ab12cd34",
        name="vm",
        state=InstanceState.ACTIVE,
        screen_width=1280,
        screen_height=1024,
        keyboard_layout="en-gb-qwerty",
        compute_id=compute_id,
    )
    db_session.add(instance)
    await db_session.commit()
    return instance


async def test_application_credentials_reach_acm_health_only(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    db_session.add(
        ApplicationCredential(
            name="monitoring",
            application_id="a" * 32,
            salt="s" * 16,
            application_secret=hash_secret("secret-value", "s" * 16),
        )
    )
    await db_session.commit()
    response = await client.get("/api/acm/health", headers=basic("a" * 32, "secret-value"))
    assert response.status_code == 200
    report = (await response.get_json())["data"]
    assert report["databaseState"] == {"status": "OK", "message": None}
    assert report["globalState"]["status"] == "OK"
    db_session.expire_all()
    credential = await db_session.scalar(select(ApplicationCredential))
    assert credential.last_used_at is not None
    # wrong secret, anonymous, a user, and the credential on a user endpoint
    assert (await client.get("/api/acm/health", headers=basic("a" * 32, "nope"))).status_code == 401
    assert (await client.get("/api/acm/health")).status_code == 401
    admin = bearer(accounts.admin_token)
    assert (await client.get("/api/acm/health", headers=admin)).status_code == 403
    app_account = await client.get("/api/account", headers=basic("a" * 32, "secret-value"))
    assert app_account.status_code == 401


async def test_instance_credentials_are_id_and_compute_id(client: Any, db_session: Any) -> None:
    instance = await _instance(db_session, "srv-123")
    ok = basic(str(instance.id), "srv-123")
    # an instance is authenticated but is not a user
    assert (await client.get("/api/account", headers=ok)).status_code == 401
    assert (await client.get("/api/configuration", headers=ok)).status_code == 200
    assert (
        await client.get("/api/configuration", headers=basic(str(instance.id), "srv-999"))
    ).status_code == 401
    instance.deleted_at = utcnow()
    await db_session.commit()
    assert (await client.get("/api/configuration", headers=ok)).status_code == 401


@pytest.mark.parametrize(
    "header", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode(), "Digest x"]
)
async def test_unusable_authorization_headers_are_401(client: Any, header: str) -> None:
    response = await client.get("/api/configuration", headers={"Authorization": header})
    assert response.status_code == 401


async def test_static_provider_refuses_postgresql_unless_allowed(
    settings: Any, db_engine: Any, db_backend: str
) -> None:
    strict = settings.model_copy(update={"accounts_static_allow_postgresql": False})
    app = create_app(strict)
    if db_backend == "postgresql":
        with pytest.raises(Exception, match="static account provider is for trials"):
            async with app.test_app():
                pass
    else:
        async with app.test_app():
            assert runtime(app).account_provider is not None
