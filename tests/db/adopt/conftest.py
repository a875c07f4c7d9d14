"""Fixtures for adoption tests: a PostgreSQL schema per test holding a Java VISA database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from java_visa_schema import script
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.adopt.catalog import read_snapshot
from visa_platform.testing.databases import (
    TestDatabase,
    engine_for,
    selected_backends,
    temporary_database,
)


@pytest.fixture
async def pg_database(tmp_path: Path) -> AsyncIterator[TestDatabase]:
    """An empty PostgreSQL schema (adoption is PostgreSQL-only: the Java server ran on it)."""
    if "postgresql" not in selected_backends():
        pytest.skip("adoption needs PostgreSQL and VISA_TEST_DATABASES leaves it out")
    async with temporary_database("postgresql", tmp_path) as db:
        yield db


@pytest.fixture
async def engine(pg_database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = engine_for(pg_database)
    yield engine
    await engine.dispose()


async def run_script(engine: AsyncEngine, sql: str) -> None:
    """Run several statements at once, as psql would (through the raw asyncpg connection)."""
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(sql)  # type: ignore[union-attr]


@pytest.fixture
def java_database(
    engine: AsyncEngine, pg_database: TestDatabase
) -> Callable[[str], Awaitable[AsyncEngine]]:
    """Build the Java VISA database of a version (``2022`` or ``3.8``) in the test's schema."""

    async def build(version: str) -> AsyncEngine:
        await run_script(engine, script(version, pg_database.schema))
        return engine

    return build


async def fingerprint(engine: AsyncEngine) -> tuple[Any, dict[str, list[str]]]:
    """The whole schema (catalogue snapshot, sequences included) and every row of every table.

    Read through fresh connections: a pooled one's prepared statements go stale across DDL.
    """
    await engine.dispose()
    async with engine.connect() as conn:
        snapshot = await conn.run_sync(read_snapshot)
        rows: dict[str, list[str]] = {}
        for table in snapshot.tables:
            result = await conn.execute(text(f'SELECT * FROM "{table}"'))
            rows[table] = sorted(repr(tuple(row)) for row in result)
    return snapshot, rows
