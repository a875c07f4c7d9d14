"""``visa plugins``: what is installed and loaded."""

from __future__ import annotations

import dataclasses
import json

import click

from visa_platform.cli.errors import handle_errors


@click.group()
def plugins() -> None:
    """Inspect plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def list_plugins(as_json: bool) -> None:
    """Show each plugin's name, version, status, hooks and errors."""
    from visa_platform.cli.context import settings
    from visa_platform.plugin import PluginHost

    infos = PluginHost.from_settings(settings()).plugins()
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(i) for i in infos], indent=2))
        return
    if not infos:
        click.echo("no plugins installed")
    for info in infos:
        version = info.version or "?"
        dist = f" [{info.distribution}]" if info.distribution else ""
        click.echo(f"{info.name} {version}{dist}  {info.status}")
        if info.hooks:
            click.echo(f"  hooks: {', '.join(info.hooks)}")
        for error in info.errors:
            click.echo(f"  error: {error}")
