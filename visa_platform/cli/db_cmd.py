"""``visa db``: migrations, the schema file for ETL developers, adopting a Java VISA database."""

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


@db.command("adopt")
@click.option(
    "--check", is_flag=True, help="Inspect and report what adoption would do; write nothing."
)
@click.option(
    "--source-timezone",
    metavar="ZONE",
    help="Time zone the Java server wrote its timestamps in (default: this machine's zone).",
)
@click.option(
    "--keep-unknown",
    is_flag=True,
    help="Keep tables, columns and dbmate migrations this version does not know, not refuse.",
)
@click.option("--sql", "show_sql", is_flag=True, help="Also print the SQL of every change.")
@handle_errors
def adopt(check: bool, source_timezone: str | None, keep_unknown: bool, show_sql: bool) -> None:
    """Take over a Java VISA server's database in place, in one transaction.

    See docs/migrating-from-java.md: back up first, run with --check, then without.
    """
    from visa_platform.cli.context import settings
    from visa_platform.cli.database import display_url, open_engine
    from visa_platform.db import adopt as adoption
    from visa_platform.db.adopt.report import format_report

    where = display_url(settings())

    async def run() -> adoption.Plan:
        async with open_engine(settings()) as engine:
            if check:
                return await adoption.check(
                    engine, source_timezone=source_timezone, keep_unknown=keep_unknown
                )
            return await adoption.adopt(
                engine, source_timezone=source_timezone, keep_unknown=keep_unknown
            )

    try:
        plan = asyncio.run(run())
    except adoption.AdoptionRefused as exc:
        click.echo(
            format_report(exc.plan, database=where, applied=False, show_sql=show_sql), nl=False
        )
        fail("adoption refused: nothing was changed")
    except (adoption.AdoptionError, adoption.TimezoneError) as exc:
        fail(f"cannot adopt schema {settings().database_schema} at {where}: {exc}")
    except adoption.AdoptionFailed as exc:
        fail(f"adoption failed and was rolled back, nothing was changed: {exc}")
    click.echo(format_report(plan, database=where, applied=not check, show_sql=show_sql), nl=False)
    if plan.refused:
        fail("adoption would be refused (problems listed above); nothing was changed")
