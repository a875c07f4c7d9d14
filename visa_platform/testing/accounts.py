"""Users for tests: bearer tokens of the ``static`` account provider, written to its file."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from visa_platform.accounts.static import ensure_token_file, token_file


class StaticAccounts:
    """Adds accounts to the static provider's file of ``settings``; returns their tokens.

    The provider re-reads the file when it changes, so accounts can be added while the app runs.
    The first-start administrator token is available as :attr:`admin_token`.
    """

    def __init__(self, settings: Any) -> None:
        self.path: Path = token_file(settings)
        created = ensure_token_file(self.path)
        self.admin_token = created if created is not None else _first_token(self.path)

    def add(
        self,
        user_id: str,
        *,
        roles: tuple[str, ...] | list[str] = (),
        first_name: str = "Test",
        last_name: str | None = None,
        email: str | None = None,
        username: str | None = None,
    ) -> str:
        token = secrets.token_urlsafe(24)
        lines = [
            "",
            "[[account]]",
            f'token = "{token}"',
            f'user_id = "{user_id}"',
            f'username = "{username or "user" + user_id}"',
            f'first_name = "{first_name}"',
            f'last_name = "{last_name or "User" + user_id}"',
            f'email = "{email or user_id + "@example.org"}"',
            "roles = [" + ", ".join(f'"{r}"' for r in roles) + "]",
        ]
        with self.path.open("a") as handle:
            handle.write("\n".join(lines) + "\n")
        return token


def _first_token(path: Path) -> str:
    import tomllib

    return str(tomllib.loads(path.read_text())["account"][0]["token"])


def bearer(token: str) -> dict[str, str]:
    """The request headers of a bearer token."""
    return {"Authorization": f"Bearer {token}"}
