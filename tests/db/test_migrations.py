"""Migrations: they build exactly the models' schema on both backends, atomically."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db import migrate
from visa_platform.db.schema import metadata
from visa_platform.testing.databases import TestDatabase, engine_for


@pytest.fixture
async def empty_engine(test_database: TestDatabase) -> AsyncEngine:
    engine = engine_for(test_database)
    yield engine  # type: ignore[misc]
    await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_builds_the_models_schema(
    empty_engine: AsyncEngine, test_database: TestDatabase
) -> None:
    before, after = await migrate.upgrade(empty_engine, test_database.schema)
    assert before is None
    assert after == migrate.head_revision() == await migrate.current_revision(empty_engine)

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, metadata()))

    async with empty_engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
    assert await table_names(empty_engine) == set(metadata().tables) | {"alembic_version"}


async def test_upgrade_twice_is_a_no_op(
    empty_engine: AsyncEngine, test_database: TestDatabase
) -> None:
    await migrate.upgrade(empty_engine, test_database.schema)
    before, after = await migrate.upgrade(empty_engine, test_database.schema)
    assert before == after == migrate.head_revision()


async def test_failed_upgrade_leaves_the_database_untouched(
    empty_engine: AsyncEngine, test_database: TestDatabase, tmp_path: Path
) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0002_broken.py").write_text(
        '"""A migration that fails half-way."""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        'revision = "0002_broken"\n'
        f'down_revision = "{migrate.head_revision()}"\n'
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n"
        '    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))\n'
        "    op.execute(\"INSERT INTO role (name) VALUES ('HALF')\")\n"
        '    raise RuntimeError("disk on fire")\n\n\n'
        "def downgrade():\n"
        "    pass\n"
    )
    with pytest.raises(RuntimeError, match="disk on fire"):
        await migrate.upgrade(
            empty_engine, test_database.schema, cfg=migrate.alembic_config(scripts)
        )
    # every step and the broken one ran in one transaction: nothing of any is left
    assert await migrate.current_revision(empty_engine) is None
    assert await table_names(empty_engine) == set()


async def test_database_from_a_newer_version_is_refused(
    empty_engine: AsyncEngine, test_database: TestDatabase
) -> None:
    await migrate.upgrade(empty_engine, test_database.schema)
    async with empty_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(migrate.MigrationError, match=r"9999_future.*newer version"):
        await migrate.upgrade(empty_engine, test_database.schema)
    assert await migrate.current_revision(empty_engine) == "9999_future"


async def test_a_java_visa_database_is_pointed_to_adoption(
    empty_engine: AsyncEngine, test_database: TestDatabase
) -> None:
    async with empty_engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE schema_migrations (version VARCHAR(255) PRIMARY KEY)")
        )
    with pytest.raises(migrate.MigrationError, match="visa db adopt --check"):
        await migrate.upgrade(empty_engine, test_database.schema)
    assert await table_names(empty_engine) == {"schema_migrations"}
