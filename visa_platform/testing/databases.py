"""Throwaway databases for tests: a fresh SQLite file or a fresh PostgreSQL schema per test.

PostgreSQL isolation uses one schema per test (``t_<random>``) in the configured database, reached
through ``search_path``; the schema is dropped afterwards, so tests never see each other's rows and
can run against a shared server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.engine import create_engine

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def postgresql_url() -> str:
    """The PostgreSQL server used by tests: ``VISA_TEST_PG_URL`` or the local ``test`` database."""
    return os.environ.get("VISA_TEST_PG_URL") or DEFAULT_PG_URL


def selected_backends() -> tuple[str, ...]:
    """Backends to run database tests on: ``VISA_TEST_DATABASES`` (comma list), default both."""
    raw = os.environ.get("VISA_TEST_DATABASES", ",".join(BACKENDS))
    chosen = tuple(b.strip() for b in raw.split(",") if b.strip())
    unknown = set(chosen) - set(BACKENDS)
    if unknown:
        raise ValueError(f"VISA_TEST_DATABASES: unknown backend(s) {sorted(unknown)}")
    return chosen


@dataclass(frozen=True)
class TestDatabase:
    """Where a test's database lives: a SQLAlchemy URL plus the PostgreSQL schema (if any)."""

    __test__ = False  # not a test class, despite the name

    backend: str
    url: str
    schema: str


@asynccontextmanager
async def temporary_database(backend: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """An empty database for one test, removed afterwards."""
    if backend == "sqlite":
        yield TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'visa-test.db'}", "visa")
        return
    if backend != "postgresql":
        raise ValueError(f"unknown test backend {backend!r}")
    url = postgresql_url()
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(url, schema="public", pool_size=1, max_overflow=0)
    try:
        try:
            async with admin.begin() as conn:
                await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        except (OSError, Exception) as exc:  # asyncpg raises several unrelated classes
            safe = make_url(url).render_as_string(hide_password=True)
            raise RuntimeError(
                f"PostgreSQL for tests is not reachable at {safe} ({exc}). Start it, set "
                "VISA_TEST_PG_URL, or run SQLite only with VISA_TEST_DATABASES=sqlite."
            ) from exc
        try:
            yield TestDatabase("postgresql", url, schema)
        finally:
            async with admin.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.dispose()


def engine_for(db: TestDatabase) -> AsyncEngine:
    """An engine on a test database (small pool: tests are sequential)."""
    return create_engine(db.url, schema=db.schema, pool_size=2, max_overflow=5)
