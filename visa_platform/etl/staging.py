"""Temporary staging tables: a run's records land here before being checked and merged in SQL.

Staging keeps memory flat (a batch at a time in Python, the rest in the database), lets duplicate
and reference checks run as set operations, and tells removal which keys the source still has.
The tables are temporary (per connection) and vanish with the transaction on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from visa_platform.etl.kinds import KindSpec

BOOKKEEPING = ("seq", "origin", "problem")


def stage_table(spec: KindSpec, target: Table) -> Table:
    """The staging table of a kind: its columns (text without a length limit), plus bookkeeping."""
    columns = []
    for name in spec.columns:
        kind = target.c[name].type
        columns.append(Column(name, Text() if isinstance(kind, String) else kind))
    columns += [
        Column("seq", BigInteger, nullable=False),
        Column("origin", Text, nullable=False),
        Column("problem", Text),
    ]
    return Table(
        f"etl_stage_{spec.kind.value}",
        MetaData(),
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


async def create(conn: AsyncConnection, table: Table) -> None:
    await conn.run_sync(lambda sync: table.create(sync))


async def insert(conn: AsyncConnection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows (values in column order); COPY on PostgreSQL, batched INSERT elsewhere."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=rows, columns=names
        )
    else:
        await conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])


async def finish(conn: AsyncConnection, table: Table, key: Sequence[str]) -> None:
    """Index the key and refresh planner statistics once the rows are in."""
    index = Index(f"ix_{table.name}_key", *(table.c[k] for k in key))
    await conn.run_sync(lambda sync: index.create(sync))
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql(f"ANALYZE {table.name}")


async def drop(conn: AsyncConnection, table: Table) -> None:
    await conn.run_sync(lambda sync: table.drop(sync))
