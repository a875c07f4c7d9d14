"""db/schema.sql: generated from the models, current, and applicable with psql."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from visa_platform.db.engine import create_engine
from visa_platform.db.migrate import current_revision, head_revision
from visa_platform.db.schema import metadata, postgresql_ddl
from visa_platform.testing.databases import postgresql_url, selected_backends

SCHEMA_SQL = Path(__file__).resolve().parents[2] / "db" / "schema.sql"


def test_schema_sql_is_up_to_date() -> None:
    assert SCHEMA_SQL.read_text() == postgresql_ddl(), (
        "db/schema.sql is stale: run `visa db schema-sql -o db/schema.sql`"
    )


def test_schema_sql_creates_every_table_and_stamps_the_head() -> None:
    ddl = postgresql_ddl()
    for table in metadata().tables:
        assert f"\nCREATE TABLE {table} (" in ddl
    assert f"VALUES ('{head_revision()}');" in ddl


@pytest.mark.skipif("postgresql" not in selected_backends(), reason="PostgreSQL deselected")
async def test_psql_applies_schema_sql_to_an_empty_database() -> None:
    psql = shutil.which("psql")
    assert psql, "psql is needed (Debian package postgresql-client)"
    from sqlalchemy.engine import make_url

    server = make_url(postgresql_url())
    name = f"visa_schema_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, schema="public", pool_size=1, max_overflow=0)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = server.set(database=name)
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            [
                psql,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                target.host or "127.0.0.1",
                "-p",
                str(target.port or 5432),
                "-U",
                target.username or "postgres",
                "-d",
                name,
                "-f",
                str(SCHEMA_SQL),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        engine = create_engine(target, schema="visa", pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                count = await conn.scalar(
                    text(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'visa'"
                    )
                )
            assert count == len(metadata().tables) + 1  # + alembic_version
            assert await current_revision(engine) == head_revision()
        finally:
            await engine.dispose()
    finally:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
