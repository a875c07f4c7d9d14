"""After the changes, before the commit: is the schema now exactly ours?

Two independent views must agree that nothing is left to do: alembic's ``compare_metadata``
against the models (tables, columns, types, nullability, indexes, unique and foreign keys), and
adoption's own comparison run again on the changed schema (which also covers what alembic does not
compare: primary keys, enum CHECKs, constraint names, defaults and id sequences). The only
differences allowed are the objects adoption keeps on purpose.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from visa_platform.db.adopt.catalog import read_snapshot
from visa_platform.db.adopt.plan_model import STRUCTURAL_PHASES, Kept
from visa_platform.db.adopt.schema_diff import diff_schema
from visa_platform.db.adopt.target import target_tables


def alembic_differences(conn: Connection, metadata: sa.MetaData) -> list[tuple[Any, ...]]:
    """``compare_metadata`` with type comparison, flattened to one tuple per difference."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    flat: list[tuple[Any, ...]] = []
    for item in compare_metadata(context, metadata):
        if isinstance(item, list):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


def is_kept(difference: tuple[Any, ...], kept: list[Kept]) -> bool:
    """Whether an alembic difference is one of the objects adoption keeps on purpose."""
    names = {(k.kind, k.table, k.name) for k in kept}
    kind = difference[0]
    if kind == "remove_table":
        return ("table", None, difference[1].name) in names
    if kind == "remove_column":
        return ("column", difference[2], difference[3].name) in names
    if kind == "remove_index":
        index = difference[1]
        return ("index", index.table.name, index.name) in names
    if kind in ("remove_constraint", "remove_fk"):
        constraint = difference[1]
        return ("constraint", constraint.table.name, constraint.name) in names
    return False


def remaining_differences(
    conn: Connection, metadata: sa.MetaData, *, timezone: str, keep_unknown: bool
) -> list[str]:
    """What still differs from our schema, apart from the kept objects (empty when adopted)."""
    snapshot = read_snapshot(conn)
    diff = diff_schema(
        snapshot, target_tables(metadata), timezone=timezone, keep_unknown=keep_unknown
    )
    left = [str(step) for step in diff.steps if step.phase in STRUCTURAL_PHASES]
    left += [str(problem) for problem in diff.problems]
    left += [
        f"alembic: {difference!r}"
        for difference in alembic_differences(conn, metadata)
        if not is_kept(difference, diff.kept)
    ]
    return left
