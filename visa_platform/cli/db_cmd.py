"""``visa db``: migrations and the schema file for ETL developers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from visa_platform.cli.errors import fail, handle_errors


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@handle_errors
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest), in one transaction."""
    from visa_platform.cli.context import settings
    from visa_platform.cli.database import display_url, open_engine
    from visa_platform.db import migrate

    async def run() -> tuple[str | None, str | None]:
        async with open_engine(settings()) as engine:
            return await migrate.upgrade(engine, settings().database_schema, revision)

    before, after = asyncio.run(run())
    where = display_url(settings())
    if before == after:
        click.echo(f"{where}: already at {after}")
    else:
        click.echo(f"{where}: upgraded from {before or 'an empty schema'} to {after}")


@db.command("current")
@handle_errors
def current() -> None:
    """Print the database's schema revision and whether it is the newest."""
    from visa_platform.cli.context import settings
    from visa_platform.cli.database import open_engine
    from visa_platform.db import migrate

    async def run() -> str | None:
        async with open_engine(settings()) as engine:
            return await migrate.current_revision(engine)

    revision = asyncio.run(run())
    head = migrate.head_revision()
    if revision is None:
        click.echo(f"none (empty database; newest is {head})")
    elif revision == head:
        click.echo(f"{revision} (head)")
    else:
        click.echo(f"{revision} (newest is {head}: run `visa db upgrade`)")


@db.command("schema-sql")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option("--check", is_flag=True, help="Fail if --output differs from the models.")
def schema_sql(output: Path | None, check: bool) -> None:
    """Print the PostgreSQL DDL of the schema (what db/schema.sql holds, for ETL developers)."""
    from visa_platform.db.schema import postgresql_ddl

    ddl = postgresql_ddl()
    if check:
        if output is None:
            fail("--check needs --output FILE", 2)
        if not output.exists() or output.read_text() != ddl:
            fail(f"{output} is stale: run `visa db schema-sql -o {output}`")
        click.echo(f"{output} is up to date")
        return
    if output is None:
        click.echo(ddl, nl=False)
    else:
        output.write_text(ddl)
        click.echo(f"wrote {output}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
@handle_errors
def revision(message: str) -> None:
    """(Developers) Generate a migration from the models against the configured database."""
    from visa_platform.cli.context import settings
    from visa_platform.cli.database import open_engine
    from visa_platform.db import migrate

    async def run() -> None:
        async with open_engine(settings()) as engine:
            await migrate.autogenerate(engine, settings().database_schema, message)

    asyncio.run(run())
