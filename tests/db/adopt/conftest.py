"""Fixtures for adoption tests: a PostgreSQL schema per test holding a Java VISA database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from adopt_rig import run_script
from java_visa_schema import script
from sqlalchemy.ext.asyncio import AsyncEngine

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


@pytest.fixture
def java_database(
    engine: AsyncEngine, pg_database: TestDatabase
) -> Callable[[str], Awaitable[AsyncEngine]]:
    """Build the Java VISA database of a version (``2022`` or ``3.8``) in the test's schema."""

    async def build(version: str) -> AsyncEngine:
        await run_script(engine, script(version, pg_database.schema))
        return engine

    return build
