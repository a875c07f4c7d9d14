"""``visa graphql``: the admin GraphQL API's schema."""

from __future__ import annotations

import click


@click.group()
def graphql() -> None:
    """The admin GraphQL API (/api/graphql)."""


@graphql.command()
def schema() -> None:
    """Print the SDL of the admin GraphQL API."""
    from visa_platform.api.graphql.sdl import load_sdl

    click.echo(load_sdl(), nl=False)
