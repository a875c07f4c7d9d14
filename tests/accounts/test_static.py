"""The static provider's token file: generation, validation, reload; the token cache."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from visa_platform.accounts.cache import TokenCache
from visa_platform.accounts.static import StaticAccountProvider, ensure_token_file, read_token_file
from visa_platform.config import ConfigError


async def test_first_start_writes_a_private_admin_token(tmp_path: Path) -> None:
    path = tmp_path / "var" / "accounts.toml"
    token = ensure_token_file(path)
    assert token is not None and len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_token_file(path) is None  # never overwritten
    account = await StaticAccountProvider(path).authenticate(token)
    assert account is not None
    assert (account.user_id, account.roles) == ("admin", frozenset({"ADMIN"}))
    assert await StaticAccountProvider(path).authenticate(token + "x") is None


async def test_edits_are_picked_up_and_bad_edits_keep_the_last_good_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    admin = ensure_token_file(path)
    provider = StaticAccountProvider(path)
    with path.open("a") as handle:
        handle.write('\n[[account]]\ntoken = "bob-token-0123456789"\nuser_id = "42"\n')
    bob = await provider.authenticate("bob-token-0123456789")
    assert bob is not None and bob.user_id == "42" and bob.last_name == "42"
    path.write_text("this is [ not toml")
    assert await provider.authenticate("bob-token-0123456789") == bob
    assert await provider.authenticate(str(admin)) is not None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('[[account]]\ntoken = "short"\nuser_id = "1"\n', "16+ characters"),
        ('[[account]]\ntoken = "0123456789abcdefgh"\n', "user_id is required"),
        ('[[account]]\ntoken = "0123456789abcdefgh"\nuser_id = "1"\nrole = ["A"]\n', "unknown key"),
        (
            '[[account]]\ntoken = "0123456789abcdefgh"\nuser_id = "1"\n'
            '[[account]]\ntoken = "0123456789abcdefgh"\nuser_id = "2"\n',
            "listed twice",
        ),
        ("account = 3\n", "array of tables"),
        ("not = [toml", "cannot read"),
    ],
)
def test_invalid_files_name_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match="VISA_ACCOUNTS_STATIC_FILE") as error:
        read_token_file(path)
    assert problem in str(error.value)


def test_token_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    cache: TokenCache[str] = TokenCache(ttl=30, max_entries=2, clock=lambda: now[0])
    cache.put("a", "A")
    assert cache.get("a") == "A"
    now[0] = 29.9
    assert cache.get("a") == "A"
    now[0] = 30.0
    assert cache.get("a") is None
    cache.put("a", "A")
    cache.put("b", "B")
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, "B", "C")
    assert len(cache) == 2
