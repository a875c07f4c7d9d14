"""The example site's hook implementations (see README.md)."""

from __future__ import annotations

import logging
import os
from typing import Any

import click
from quart import Blueprint

from visa_platform.plugin import PluginHost, hookimpl
from visa_platform.plugin.types import SecurityGroupQuery, UserEvent

log = logging.getLogger("visa_example_site")

STAFF_GROUP = "example-staff-ssh"

blueprint = Blueprint("example_site", __name__)


@blueprint.get("/motd")
async def motd() -> dict[str, Any]:
    """The message of the day, from EXAMPLE_SITE_MOTD."""
    return {"data": {"message": os.environ.get("EXAMPLE_SITE_MOTD", "Welcome to VISA")}}


@hookimpl
def visa_register_routes(register: Any) -> None:
    register.add(blueprint, url_prefix="/api/example-site")


@click.group("example-site")
def example_site() -> None:
    """Commands of the example site."""


@example_site.command("backends")
def backends() -> None:
    """List the compute backend types the installed plugins provide."""
    from visa_platform.cli.context import settings

    ids = PluginHost.from_settings(settings()).compute_backends.ids()
    click.echo("\n".join(ids) if ids else "no compute backends installed")


@hookimpl
def visa_register_commands(cli: click.Group) -> None:
    cli.add_command(example_site)


@hookimpl
def visa_instance_security_groups(query: SecurityGroupQuery) -> list[str] | None:
    return [STAFF_GROUP] if "STAFF" in query.owner_roles else None


@hookimpl
def visa_user_logged_in(event: UserEvent) -> None:
    if event.first_login:
        log.info("event=first_login user=%s", event.user_id)
