"""Database preparation shared by ``visa serve`` and ``visa db``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.cli.errors import DatabaseUnavailable, describe_database_error
from visa_platform.config import Settings
from visa_platform.db.engine import create_engine, ping

CONNECT_TIMEOUT_SECONDS = 10.0


def display_url(settings: Settings) -> str:
    return make_url(settings.sqlalchemy_url()).render_as_string(hide_password=True)


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database, checked reachable; disposed afterwards."""
    url = make_url(settings.sqlalchemy_url())
    if url.get_backend_name() == "sqlite" and url.database:
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, schema=settings.database_schema, pool_size=1, max_overflow=1)
    try:
        try:
            await asyncio.wait_for(ping(engine), CONNECT_TIMEOUT_SECONDS)
        except Exception as exc:
            reason = (
                f"no answer within {CONNECT_TIMEOUT_SECONDS:.0f} s"
                if isinstance(exc, TimeoutError)
                else describe_database_error(exc)
            )
            raise DatabaseUnavailable(
                f"cannot reach the database at {display_url(settings)}: {reason}"
            ) from exc
        yield engine
    finally:
        await engine.dispose()


async def prepare(settings: Settings, migrate: bool) -> str | None:
    """Check the database, migrate it (or check it is migrated) and seed fixtures.

    Returns the schema revision the database is at.
    """
    from visa_platform.db import migrate as migrations
    from visa_platform.db.engine import session_factory
    from visa_platform.db.seed import ensure_fixtures

    async with open_engine(settings) as engine:
        if migrate:
            _, revision = await migrations.upgrade(engine, settings.database_schema)
        else:
            revision = await migrations.current_revision(engine)
            head = migrations.head_revision()
            if revision != head:
                raise migrations.MigrationError(
                    f"the database schema is at {revision or 'nothing'} but this version needs "
                    f"{head}; run `visa db upgrade` (or enable VISA_DATABASE_AUTO_MIGRATE)"
                )
        await ensure_fixtures(session_factory(engine))
        return revision


def check_clouds(settings: Settings) -> None:
    """Fail early (one line naming the variables) when the default cloud cannot work."""
    from visa_platform.plugin import PluginHost
    from visa_platform.services.cloud_clients import check_default_cloud

    registry = PluginHost.from_settings(settings).compute_backends
    asyncio.run(check_default_cloud(settings, registry))


def check_accounts(settings: Settings) -> str | None:
    """Fail early on a wrong account-provider choice; returns the chosen provider id."""
    from visa_platform.accounts import selection
    from visa_platform.plugin import PluginHost

    registry = PluginHost.from_settings(settings).account_providers
    if len(registry) == 0:
        return None
    return selection.check(settings, registry)


def announce_static_admin(settings: Settings) -> None:
    """Create the static provider's token file if missing, printing the administrator's token
    once with where it is kept (called once the database is ready)."""
    import click

    from visa_platform.accounts.static import ensure_token_file, token_file

    path = token_file(settings)
    token = ensure_token_file(path)
    if token is not None:
        host = "127.0.0.1" if settings.server_host == "localhost" else settings.server_host
        click.echo(
            "visa: created an administrator for the static account provider; its bearer token "
            f"(kept in {path}, also printed by `visa accounts token`):\n\n    {token}\n\n"
            f'try: curl -H "Authorization: Bearer {token}" '
            f"http://{host}:{settings.server_port}/api/account\n",
            err=True,
        )
