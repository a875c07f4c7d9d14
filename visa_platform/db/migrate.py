"""Schema migrations with alembic: the scripts live in ``db/migrations`` (packaged as
``visa_platform.migrations``).

Upgrades run on one connection inside one transaction on both backends (SQLite DDL is
transactional here, see :mod:`visa_platform.db.engine`), so a failed upgrade leaves the database
exactly as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.engine import ensure_schema

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class MigrationError(Exception):
    """The database cannot be brought to (or does not match) the code's schema version."""


def alembic_config(script_location: Path | None = None) -> Config:
    """An alembic configuration for our scripts (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    return cfg


def head_revision(cfg: Config | None = None) -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(cfg or alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database (``None`` for an empty database)."""

    def read(sync_conn: Any) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def upgrade(
    engine: AsyncEngine, schema: str, revision: str = "head", cfg: Config | None = None
) -> tuple[str | None, str | None]:
    """Upgrade to ``revision`` in one transaction; returns (revision before, revision after)."""
    cfg = cfg or alembic_config()
    await ensure_schema(engine, schema)
    before = await current_revision(engine)
    script = ScriptDirectory.from_config(cfg)
    if before is None and await _has_visa_tables(engine):
        raise MigrationError(
            "the database already holds VISA tables but no migration revision: it looks like a "
            "Java VISA database; see docs/migrating-from-java.md (`visa db adopt --check`)"
        )
    if before is not None and _unknown(script, before):
        raise MigrationError(
            f"the database is at revision {before}, which this version of visa-platform does "
            "not know (was it migrated by a newer version?)"
        )

    def run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        try:
            command.upgrade(cfg, revision)
        finally:
            cfg.attributes.pop("connection", None)

    async with engine.begin() as conn:
        await conn.run_sync(run)
    return before, await current_revision(engine)


async def _has_visa_tables(engine: AsyncEngine) -> bool:
    from sqlalchemy import inspect

    async with engine.connect() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    return bool(names & {"instance", "users", "schema_migrations"})


def _unknown(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is None
    except Exception:
        return True


async def autogenerate(engine: AsyncEngine, schema: str, message: str) -> Any:
    """Write a new revision from the difference between the models and the database."""
    cfg = alembic_config()
    await ensure_schema(engine, schema)

    def run(sync_conn: Any) -> Any:
        cfg.attributes["connection"] = sync_conn
        try:
            return command.revision(cfg, message=message, autogenerate=True)
        finally:
            cfg.attributes.pop("connection", None)

    async with engine.begin() as conn:
        return await conn.run_sync(run)
