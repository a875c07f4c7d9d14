"""The adoption tests' rig: running raw SQL scripts and fingerprinting a whole schema.

Imported by the tests as ``from adopt_rig import ...`` (never ``from conftest``: every test
directory has a ``conftest`` module, and which one that name finds depends on collection order).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.adopt.catalog import read_snapshot


async def run_script(engine: AsyncEngine, sql: str) -> None:
    """Run several statements at once, as psql would (through the raw asyncpg connection)."""
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(sql)  # type: ignore[union-attr]


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
