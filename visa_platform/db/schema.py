"""Schema helpers: the model metadata, ``create_all`` for tests, the DDL for ETL developers."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine


def metadata() -> MetaData:
    """``Base.metadata`` with every model imported (so every table is registered)."""
    import visa_platform.db.models  # noqa: F401  (registers the tables)
    from visa_platform.db.base import Base

    return Base.metadata


async def create_all(engine: AsyncEngine) -> None:
    """Create every table directly from the models (tests only: servers use migrations)."""
    md = metadata()
    async with engine.begin() as conn:
        await conn.run_sync(md.create_all)


def postgresql_ddl() -> str:
    """The PostgreSQL DDL of every table, for ``db/schema.sql`` (``psql -f`` on an empty database).

    It creates the ``visa`` schema, the tables, their indexes, and stamps the current migration
    revision so that ``visa db upgrade`` can take over a database created from this file.
    """
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateTable

    from visa_platform.db.migrate import head_revision

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    md = metadata()
    head = head_revision()
    parts = [
        "-- VISA platform database schema for PostgreSQL, generated from the models.",
        "-- Do not edit: regenerate with `visa db schema-sql -o db/schema.sql`.",
        "-- Apply to an empty database with `psql -f db/schema.sql`; servers use migrations.",
        "",
        "CREATE SCHEMA IF NOT EXISTS visa;",
        "SET search_path TO visa;",
        "",
    ]
    for table in md.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";")
        parts.append("")
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";")
            parts.append("")
    parts.extend(
        [
            "CREATE TABLE alembic_version (",
            "\tversion_num VARCHAR(32) NOT NULL,",
            "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)",
            ");",
            "",
        ]
    )
    if head is not None:
        parts.append(f"INSERT INTO alembic_version (version_num) VALUES ('{head}');")
        parts.append("")
    return "\n".join(line.rstrip() for line in "\n".join(parts).splitlines()) + "\n"
