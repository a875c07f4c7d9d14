"""``visa accounts``: the static account provider's tokens (trials on the embedded defaults)."""

from __future__ import annotations

import tomllib

import click

from visa_platform.cli.errors import fail, handle_errors


@click.group()
def accounts() -> None:
    """Accounts of the static provider."""


@accounts.command("token")
@click.option("--user", "user_id", default="admin", show_default=True, help="User id.")
@handle_errors
def token(user_id: str) -> None:
    """Print the bearer token of a static-provider user (the administrator by default)."""
    from visa_platform.accounts.static import ensure_token_file, token_file
    from visa_platform.cli.context import settings

    path = token_file(settings())
    ensure_token_file(path)
    entries = tomllib.loads(path.read_text()).get("account", [])
    for entry in entries:
        if entry.get("user_id") == user_id:
            click.echo(entry["token"])
            return
    fail(f"no static account for user {user_id!r} in {path}")
