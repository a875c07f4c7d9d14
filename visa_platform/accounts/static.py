"""The ``static`` account provider: bearer tokens listed in a local TOML file.

Meant for trying VISA on its embedded defaults and for development: on first start the host writes
the file with one administrator token (readable by its owner only). Format::

    [[account]]
    token = "…"              # the bearer token (at least 16 characters)
    user_id = "admin"
    username = "admin"       # desktop login
    first_name = "VISA"
    last_name = "Administrator"
    email = "admin@localhost"
    roles = ["ADMIN"]        # granted at login
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

from visa_platform.accounts.contract import Account
from visa_platform.config import ConfigError

log = logging.getLogger("visa_platform.accounts")

FILE_NAME = "accounts.toml"
MIN_TOKEN_LENGTH = 16
_FIELDS = {"token", "user_id", "username", "first_name", "last_name", "email", "roles"}


def token_file(settings: Any) -> Path:
    """Where the static provider's tokens live for ``settings``."""
    path: Path | None = settings.accounts_static_file
    return path if path is not None else Path(settings.data_dir) / FILE_NAME


def ensure_token_file(path: Path) -> str | None:
    """Create ``path`` with one administrator token if it does not exist; return that token."""
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    text = (
        "# Bearer tokens of the static account provider (VISA_ACCOUNTS_PROVIDER=static).\n"
        "# Anyone holding a token here is that user: keep this file private.\n\n"
        "[[account]]\n"
        f'token = "{token}"\n'
        'user_id = "admin"\n'
        'username = "admin"\n'
        'first_name = "VISA"\n'
        'last_name = "Administrator"\n'
        'email = "admin@localhost"\n'
        'roles = ["ADMIN"]\n'
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return token


def read_token_file(path: Path) -> dict[bytes, Account]:
    """Parse the file into ``{sha256(token): Account}``; every problem names the file and entry."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"VISA_ACCOUNTS_STATIC_FILE: {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"VISA_ACCOUNTS_STATIC_FILE: cannot read {path}: {exc}") from None
    problems: list[str] = []
    accounts: dict[bytes, Account] = {}
    entries = data.get("account", [])
    if not isinstance(entries, list):
        entries = []
        problems.append(f"{path}: 'account' must be an array of tables ([[account]])")
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: account #{number}"
        unknown = set(entry) - _FIELDS
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        token, user_id = entry.get("token"), entry.get("user_id")
        if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
            problems.append(f"{where}: token must be a string of {MIN_TOKEN_LENGTH}+ characters")
            continue
        if not isinstance(user_id, str) or not user_id.strip():
            problems.append(f"{where}: user_id is required")
            continue
        roles = entry.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            problems.append(f"{where}: roles must be a list of role names")
            continue
        key = _digest(token)
        if key in accounts:
            problems.append(f"{where}: the same token is listed twice")
            continue
        accounts[key] = Account(
            user_id=user_id,
            username=entry.get("username") or user_id,
            first_name=entry.get("first_name"),
            last_name=entry.get("last_name") or user_id,
            email=entry.get("email"),
            roles=frozenset(roles),
        )
    if problems:
        raise ConfigError(f"VISA_ACCOUNTS_STATIC_FILE: {p}" for p in problems)
    return accounts


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class StaticAccountProvider:
    """Looks tokens up in the file; edits are picked up (the file is re-read when it changes).

    A file that becomes invalid while serving is logged and the last good content kept.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp = self._file_stamp()
        self._accounts = read_token_file(path)

    @classmethod
    def from_settings(cls, settings: Any) -> StaticAccountProvider:
        path = token_file(settings)
        ensure_token_file(path)
        return cls(path)

    def _file_stamp(self) -> tuple[int, int]:
        stat = self._path.stat()
        return stat.st_mtime_ns, stat.st_size

    def _reload_if_changed(self) -> None:
        try:
            stamp = self._file_stamp()
            if stamp == self._stamp:
                return
            self._accounts = read_token_file(self._path)
            self._stamp = stamp
        except (OSError, ConfigError) as exc:
            log.error("event=static_accounts_reload outcome=kept_previous error=%r", str(exc))

    async def authenticate(self, token: str) -> Account | None:
        self._reload_if_changed()
        digest = _digest(token)
        for key, account in self._accounts.items():
            if hmac.compare_digest(key, digest):
                return account
        return None

    async def aclose(self) -> None:
        return None
