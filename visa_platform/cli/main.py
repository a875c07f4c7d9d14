"""Entry point of the ``visa`` command."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from visa_platform import __version__
from visa_platform.cli import (
    accounts_cmd,
    config_cmd,
    db_cmd,
    etl_cmd,
    graphql_cmd,
    plugins_cmd,
    serve_cmd,
)
from visa_platform.cli.errors import handle_errors
from visa_platform.logs import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="TOML configuration file (same as VISA_CONFIG_FILE).",
)
@click.version_option(__version__, prog_name="visa")
def cli(config_file: str | None) -> None:
    """VISA platform: API server and remote-desktop service."""


cli.add_command(serve_cmd.serve)
cli.add_command(db_cmd.db)
cli.add_command(plugins_cmd.plugins)
cli.add_command(config_cmd.config)
cli.add_command(etl_cmd.etl)
cli.add_command(accounts_cmd.accounts)
cli.add_command(graphql_cmd.graphql)


def _config_file_from(argv: Sequence[str]) -> str | None:
    """Find ``--config`` before click parses (plugins add commands before that)."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if not arg.startswith("-"):
            break  # a sub-command: options after it are its own
    return None


@handle_errors
def _add_plugin_commands() -> None:
    from visa_platform.cli.context import settings
    from visa_platform.plugin import PluginHost

    configure_logging(settings().logging_level.python_level())
    PluginHost.from_settings(settings()).add_commands(cli)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    config_file = _config_file_from(args)
    if config_file is not None:
        os.environ["VISA_CONFIG_FILE"] = config_file
    configure_logging()
    if not any(a in ("-h", "--help", "--version") for a in args[:1]):
        try:
            _add_plugin_commands()
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
    cli.main(args=args, prog_name="visa")


if __name__ == "__main__":  # pragma: no cover
    main()
