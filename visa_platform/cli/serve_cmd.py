"""``visa serve``: migrate the database, then serve the API with Hypercorn."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from visa_platform.cli.errors import handle_errors

log = logging.getLogger("visa_platform.serve")

APPLICATION_PATH = "visa_platform.app:create_app()"


@click.command()
@click.option("--host", help="Interface to listen on [VISA_SERVER_HOST, default localhost].")
@click.option("--port", type=click.IntRange(0, 65535), help="Port [VISA_SERVER_PORT, 8086].")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes."
)
@click.option(
    "--migrate/--no-migrate",
    default=None,
    help="Upgrade the database schema first [VISA_DATABASE_AUTO_MIGRATE, on].",
)
@handle_errors
def serve(host: str | None, port: int | None, workers: int, migrate: bool | None) -> None:
    """Serve the API (under /api) until interrupted."""
    from hypercorn.config import Config

    from visa_platform.accounts.selection import STATIC
    from visa_platform.cli.context import settings as load
    from visa_platform.cli.database import (
        announce_static_admin,
        check_accounts,
        check_clouds,
        display_url,
        prepare,
    )

    settings = load()
    host = host or settings.server_host
    port = settings.server_port if port is None else port
    do_migrate = settings.database_auto_migrate if migrate is None else migrate

    provider = check_accounts(settings)
    check_clouds(settings)
    revision = asyncio.run(prepare(settings, migrate=do_migrate))
    if provider == STATIC:
        announce_static_admin(settings)
    log.info("event=database_ready url=%s revision=%s", display_url(settings), revision)

    config = Config()
    bind_host = "127.0.0.1" if host == "localhost" else host
    config.bind = [f"[{bind_host}]:{port}" if ":" in bind_host else f"{bind_host}:{port}"]
    config.workers = workers
    config.graceful_timeout = 10
    # Hypercorn logs through our logging configuration (one format, no duplicate lines).
    config.errorlog = logging.getLogger("hypercorn.error")
    if settings.logging_access_log_enabled:
        config.accesslog = logging.getLogger("hypercorn.access")
    log.info("event=serving bind=%s workers=%d", config.bind[0], workers)
    if workers == 1:
        from visa_platform.app import create_app

        asyncio.run(_serve_one(create_app(settings), config))
    else:
        from hypercorn.run import run

        config.application_path = APPLICATION_PATH
        run(config)


async def _serve_one(app: object, config: object) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
