"""``visa config``: inspect the effective configuration."""

from __future__ import annotations

import json

import click

from visa_platform.cli.errors import handle_errors


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def show(as_json: bool) -> None:
    """Print every setting, its value (secrets masked) and where it came from."""
    from visa_platform.cli.context import settings
    from visa_platform.config import describe

    rows = describe(settings())
    if as_json:
        click.echo(json.dumps([{"name": n, "value": v, "source": s} for n, v, s in rows], indent=2))
        return
    width = max(len(n) for n, _, _ in rows)
    for name, value, source in rows:
        click.echo(f"{name:<{width}}  {value}  ({source})")
