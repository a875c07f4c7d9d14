"""Find the rows that would break a constraint adoption needs (read-only queries).

Each :class:`~visa_platform.db.adopt.plan_model.Precondition` becomes one query that counts the
offending rows and names the first few by their key (our primary key columns when the table has
them, the checked columns otherwise), so the operator knows exactly what to fix.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from visa_platform.db.adopt.catalog import Snapshot
from visa_platform.db.adopt.plan_model import Precondition, Problem
from visa_platform.db.adopt.sql import ident, idents, literal
from visa_platform.db.adopt.target import TargetTable

SAMPLE = 10
"""How many offending rows a problem names."""


def find_problems(
    conn: Connection,
    snapshot: Snapshot,
    targets: dict[str, TargetTable],
    preconditions: list[Precondition],
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[Precondition] = set()
    for pre in preconditions:
        if pre in seen:
            continue
        seen.add(pre)
        table = snapshot.tables.get(pre.table)
        if table is None or table.rows == 0 or not all(c in table.columns for c in pre.columns):
            continue  # a new table or column holds no offending rows
        keys = [c for c in targets[pre.table].pk_columns if c in table.columns] or list(pre.columns)
        problem = _check(conn, pre, keys)
        if problem is not None:
            problems.append(problem)
    return problems


def _key_text(names: list[str], values: Any) -> str:
    return ", ".join(f"{n}={_show(v)}" for n, v in zip(names, values, strict=True))


def _show(value: Any) -> str:
    if value is None:
        return "NULL"
    return repr(value) if isinstance(value, str) else str(value)


def _check(conn: Connection, pre: Precondition, keys: list[str]) -> Problem | None:
    table = ident(pre.table)
    cols = list(pre.columns)
    if pre.kind == "unique":
        present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in cols)
        where = f"{present} AND ({pre.predicate})" if pre.predicate else present
        rows = conn.execute(
            text(
                f"SELECT {idents(cols)}, count(*) AS n, count(*) OVER () AS total FROM {table} "
                f"WHERE {where} GROUP BY {idents(cols)} HAVING count(*) > 1 "
                f"ORDER BY {idents(cols)} LIMIT {SAMPLE}"
            )
        ).all()
        if not rows:
            return None
        return Problem(
            pre.table,
            f"{rows[0][-1]} value(s) of ({', '.join(cols)}) occur more than once, which "
            f"{pre.what} forbids",
            tuple(f"{_key_text(cols, row[: len(cols)])} ({row[-2]} rows)" for row in rows),
            int(rows[0][-1]),
        )
    if pre.kind == "not_null":
        condition = f"{ident(cols[0])} IS NULL"
        message = f"row(s) where {cols[0]} is null, which {pre.what} forbids"
        shown: list[str] = []
    elif pre.kind == "values_in":
        allowed = ", ".join(literal(v) for v in pre.values)
        condition = f"{ident(cols[0])} IS NOT NULL AND {ident(cols[0])} NOT IN ({allowed})"
        message = (
            f"row(s) where {cols[0]} holds a value that {pre.what} does not allow "
            f"({', '.join(pre.values)})"
        )
        shown = cols
    elif pre.kind == "max_length":
        condition = f"length({ident(cols[0])}) > {pre.max_length}"
        message = f"row(s) where {cols[0]} is longer than {pre.max_length} characters ({pre.what})"
        shown = []
    elif pre.kind == "references":
        present = " AND ".join(f"t.{ident(c)} IS NOT NULL" for c in cols)
        if pre.ref_exists and pre.ref_table is not None:
            match = " AND ".join(
                f"r.{ident(rc)} = t.{ident(c)}" for c, rc in zip(cols, pre.ref_columns, strict=True)
            )
            condition = (
                f"{present} AND NOT EXISTS (SELECT 1 FROM {ident(pre.ref_table)} r WHERE {match})"
            )
        else:
            condition = present
        message = (
            f"row(s) where ({', '.join(cols)}) point at {pre.ref_table} rows that do not exist "
            f"({pre.what})"
        )
        shown = cols
    else:  # pragma: no cover - every kind is listed above
        raise ValueError(f"unknown precondition {pre.kind}")
    extra = [c for c in shown if c not in keys]
    selected = ", ".join([f"t.{ident(k)}" for k in keys] + [f"t.{ident(c)}" for c in extra])
    rows = conn.execute(
        text(
            f"SELECT {selected}, count(*) OVER () FROM {table} t WHERE {condition} "
            f"ORDER BY {', '.join(f't.{ident(k)}' for k in keys)} LIMIT {SAMPLE}"
        )
    ).all()
    if not rows:
        return None
    samples = []
    for row in rows:
        sample = _key_text(keys, row[: len(keys)])
        if extra:
            sample += f" ({_key_text(extra, row[len(keys) : len(keys) + len(extra)])})"
        samples.append(sample)
    count = int(rows[0][-1])
    return Problem(pre.table, f"{count} {message}", tuple(samples), count)
