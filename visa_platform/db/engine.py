"""Async engine and sessions for PostgreSQL (asyncpg) and SQLite (aiosqlite).

The two backends are made to behave alike:

* PostgreSQL: tables live in a schema (``visa`` by default) reached through ``search_path``, so
  that table names in models, migrations and SQL are never schema-qualified.
* SQLite: foreign keys are enforced, WAL journal, a busy timeout, and transactions are begun
  explicitly so that DDL is transactional too (a failed migration leaves nothing behind). The
  server's engine begins them ``IMMEDIATE`` (``sqlite_immediate=True``): SQLite allows one
  writer, and a deferred transaction that reads, then writes after another connection wrote,
  fails at once with "database is locked" instead of waiting its turn.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import NullPool

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def validate_schema_name(schema: str) -> str:
    """Return ``schema`` if it is a plain SQL identifier (it is interpolated into DDL)."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid database schema name {schema!r}: use letters, digits and _")
    return schema


def create_engine(
    url: str | URL,
    *,
    schema: str = "visa",
    pool_size: int = 5,
    max_overflow: int = 15,
    echo: bool = False,
    sqlite_immediate: bool = False,
) -> AsyncEngine:
    """Create the async engine for ``url`` with the backend-specific setup described above."""
    sa_url = make_url(url)
    backend = sa_url.get_backend_name()
    if backend == "postgresql":
        validate_schema_name(schema)
        return _create_async_engine(
            sa_url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_args={"server_settings": {"search_path": schema}},
        )
    if backend == "sqlite":
        engine = _create_async_engine(sa_url, echo=echo, poolclass=NullPool)
        _setup_sqlite(engine, "BEGIN IMMEDIATE" if sqlite_immediate else "BEGIN")
        return engine
    raise ValueError(f"unsupported database {backend!r}: use postgresql or sqlite")


def _setup_sqlite(engine: AsyncEngine, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


async def ensure_schema(engine: AsyncEngine, schema: str) -> None:
    """Create the PostgreSQL schema if it is missing (no-op on SQLite)."""
    if engine.dialect.name != "postgresql":
        return
    validate_schema_name(schema)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (async code must never lazy-load)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Run ``SELECT 1``; raises the driver's error when the database is unreachable."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
