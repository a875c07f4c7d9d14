"""The accounts-service provider against a fake accounts service over real HTTP."""

from __future__ import annotations

import pytest

from visa_auth.accounts_service import AccountsServiceProvider
from visa_platform.accounts.contract import Account, AccountProviderUnavailable
from visa_platform.testing.fake_accounts import FakeAccountsService


async def test_valid_token_gives_the_account(fake_accounts: FakeAccountsService) -> None:
    fake_accounts.add(
        "tok-1",
        "1001",
        username="ada",
        email="ada@example.org",
        parameters={"homePath": "/home/ada", "uid": "1001"},
    )
    provider = AccountsServiceProvider(fake_accounts.url, timeout_seconds=5)
    try:
        account = await provider.authenticate("tok-1")
    finally:
        await provider.aclose()
    assert account == Account(
        user_id="1001",
        username="ada",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.org",
        parameters={"homePath": "/home/ada", "uid": "1001"},
    )


async def test_unknown_token_is_not_an_account(fake_accounts: FakeAccountsService) -> None:
    provider = AccountsServiceProvider(fake_accounts.url, timeout_seconds=5)
    try:
        assert await provider.authenticate("nope") is None
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("status", "body", "delay", "reason"),
    [
        (500, None, 0.0, "answered 500"),
        (None, {"username": "x"}, 0.0, "malformed"),
        (None, {"user": {"id": None}}, 0.0, "malformed"),
        (None, None, 1.0, "ReadTimeout"),
    ],
)
async def test_failures_are_unavailable(
    fake_accounts: FakeAccountsService, status: int | None, body: object, delay: float, reason: str
) -> None:
    fake_accounts.add("tok", "1")
    fake_accounts.status, fake_accounts.body, fake_accounts.delay = status, body, delay
    provider = AccountsServiceProvider(fake_accounts.url, timeout_seconds=0.3)
    try:
        with pytest.raises(AccountProviderUnavailable, match=reason):
            await provider.authenticate("tok")
    finally:
        await provider.aclose()


async def test_refused_connection_is_unavailable() -> None:
    from visa_platform.testing.servers import free_port

    provider = AccountsServiceProvider(f"http://127.0.0.1:{free_port()}/x", timeout_seconds=1)
    try:
        with pytest.raises(AccountProviderUnavailable, match="ConnectError"):
            await provider.authenticate("tok")
    finally:
        await provider.aclose()
