"""Removing rows the source no longer has, only when asked, and never a row VISA still uses.

A row is removed when its key is absent from this run's staged records of its kind (rejected
records count as present: a bad record never deletes its row) and nothing references it: any
foreign key of any VISA table (instances' experiments, instance members, sessions, tokens,
bookings, roles left in place ...), plus the polymorphic instrument references of flavour limits
and security-group filters. ``user_role`` rows are removed only for the managed roles. Link tables
go first, so a user dropped from every experiment can then go too (domain.md §9.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from visa_platform.domain.enums import FlavourLimitObjectType, SecurityGroupFilterObjectType
from visa_platform.etl.kinds import Kind, KindSpec


def _references(target: Table, tables: Mapping[str, Table]) -> list[ColumnElement[bool]]:
    """``EXISTS`` clauses, one per thing that may point at a row of ``target``."""
    clauses: list[ColumnElement[bool]] = []
    for table in tables.values():
        for fk in table.foreign_keys:
            if fk.column.table is target and table is not target:
                clauses.append(exists().where(fk.parent == fk.column))
    if target.name == "instrument":
        limit, group_filter = tables["flavour_limit"], tables["security_group_filter"]
        clauses.append(
            exists().where(
                limit.c.object_type == FlavourLimitObjectType.INSTRUMENT,
                limit.c.object_id == target.c.id,
            )
        )
        clauses.append(
            exists().where(
                group_filter.c.object_type == SecurityGroupFilterObjectType.INSTRUMENT,
                group_filter.c.object_id == target.c.id,
            )
        )
    return clauses


async def remove_absent(
    conn: AsyncConnection,
    spec: KindSpec,
    stage: Table,
    tables: Mapping[str, Table],
    managed_role_ids: Sequence[int],
) -> tuple[int, int]:
    """Delete the absent, unreferenced rows of one kind: ``(removed, kept because referenced)``."""
    target = tables[spec.table]
    absent: list[Any] = [~exists().where(and_(*(stage.c[k] == target.c[k] for k in spec.key)))]
    if spec.kind is Kind.USER_ROLE:
        absent.append(target.c.role_id.in_(list(managed_role_ids)))
    count = await conn.scalar(select(func.count()).select_from(target).where(*absent))
    referenced = _references(target, tables)
    result = await conn.execute(delete(target).where(*absent, *(~r for r in referenced)))
    removed = max(result.rowcount, 0)
    return removed, int(count or 0) - removed
