"""Read the live schema of a PostgreSQL database from its catalogue, without changing anything.

Everything is read for the schema the connection's ``search_path`` selects (``current_schema()``),
the one the engine works in. The snapshot holds what adoption needs to compare with our models:
column types as PostgreSQL prints them (``format_type``), defaults, identity, every constraint
with its columns, indexes, sequences and who owns them, views that depend on columns, and row
counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from visa_platform.db.adopt.java_schema import DBMATE_TABLE

ALEMBIC_TABLE = "alembic_version"


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    """As ``format_type`` prints it, e.g. ``character varying(250)``."""
    nullable: bool
    default: str | None
    identity: bool


@dataclass(frozen=True)
class ConstraintInfo:
    name: str
    kind: str
    """``p`` primary key, ``f`` foreign key, ``u`` unique, ``c`` check, others as PostgreSQL."""
    columns: tuple[str, ...]
    definition: str
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str = "a"
    """``a`` no action, ``r`` restrict, ``c`` cascade, ``n`` set null, ``d`` set default."""


@dataclass(frozen=True)
class IndexInfo:
    name: str
    columns: tuple[str, ...] | None
    """``None`` for an expression index."""
    unique: bool
    predicate: str | None
    backs_constraint: bool


@dataclass
class TableInfo:
    name: str
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    constraints: list[ConstraintInfo] = field(default_factory=list)
    indexes: list[IndexInfo] = field(default_factory=list)
    rows: int = 0

    def constraints_of(self, kind: str) -> list[ConstraintInfo]:
        return [c for c in self.constraints if c.kind == kind]

    @property
    def primary_key(self) -> ConstraintInfo | None:
        found = self.constraints_of("p")
        return found[0] if found else None


@dataclass(frozen=True)
class SequenceInfo:
    name: str
    data_type: str
    increment: int
    last_value: int | None
    """The last value handed out (``None`` if none yet)."""
    owner: tuple[str, str] | None
    """(table, column) owning it (``OWNED BY``, serial or identity)."""
    identity: bool


@dataclass
class Snapshot:
    """Everything adoption knows about the database, read in one go."""

    schema: str
    tables: dict[str, TableInfo]
    sequences: dict[str, SequenceInfo]
    views: dict[str, str]
    """name -> kind (``view`` or ``materialized view``)."""
    column_views: dict[tuple[str, str], list[str]]
    """(table, column) -> views that use it (a column type cannot change under a view)."""
    dbmate_versions: list[str] | None
    """Rows of ``schema_migrations``; ``None`` when the table does not exist."""
    alembic_revision: str | None
    session_timezone: str

    @property
    def has_alembic_table(self) -> bool:
        return ALEMBIC_TABLE in self.tables

    def sequence_of_default(self, table: str, column: str) -> str | None:
        """The sequence a ``nextval(...)`` default of the column draws from, if any."""
        info = self.tables[table].columns[column]
        return sequence_in_default(info.default)


_NEXTVAL = re.compile(r"""nextval\('(?:"?[^'".]+"?\.)?"?([^'"]+)"?'(?:::regclass)?\)""")


def sequence_in_default(default: str | None) -> str | None:
    """``nextval('visa.x_seq'::regclass)`` -> ``x_seq``."""
    if default is None:
        return None
    match = _NEXTVAL.search(default)
    return match.group(1) if match else None


def read_snapshot(conn: Connection) -> Snapshot:
    """Read the schema of ``current_schema()`` (the caller's transaction; nothing is written)."""
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    if schema is None:
        raise LookupError("no schema selected (the search_path names no existing schema)")
    timezone = str(conn.execute(text("SHOW TimeZone")).scalar())
    params = {"schema": schema}

    relations = conn.execute(
        text(
            "SELECT c.oid, c.relname, c.relkind::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname"
        ),
        params,
    ).all()
    tables: dict[str, TableInfo] = {}
    names_by_oid: dict[int, str] = {}
    views: dict[str, str] = {}
    for oid, name, kind in relations:
        if kind in ("r", "p"):
            tables[name] = TableInfo(name)
            names_by_oid[oid] = name
        else:
            views[name] = "view" if kind == "v" else "materialized view"

    attnames: dict[tuple[int, int], str] = {}
    for row in conn.execute(
        text(
            "SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), "
            "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d "
            "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = ANY(:oids) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attrelid, a.attnum"
        ),
        {"oids": list(names_by_oid)},
    ):
        relid, num, name, type_, notnull, default, identity = row
        attnames[(relid, num)] = name
        tables[names_by_oid[relid]].columns[name] = ColumnInfo(
            name=name,
            type=type_,
            nullable=not notnull,
            default=default,
            identity=identity not in ("", None),
        )

    def cols(relid: int, nums: list[int] | None) -> tuple[str, ...]:
        return tuple(attnames[(relid, n)] for n in nums or ())

    for row in conn.execute(
        text(
            "SELECT c.conrelid, c.conname, c.contype::text, c.conkey, c.confrelid, c.confkey, "
            "c.confdeltype::text, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid = ANY(:oids) ORDER BY c.conrelid, c.conname"
        ),
        {"oids": list(names_by_oid)},
    ):
        relid, name, kind, key, frelid, fkey, deltype, definition = row
        ref_table = names_by_oid.get(frelid) if frelid else None
        tables[names_by_oid[relid]].constraints.append(
            ConstraintInfo(
                name=name,
                kind=kind,
                columns=cols(relid, key),
                definition=definition,
                ref_table=ref_table,
                ref_columns=cols(frelid, fkey) if ref_table else (),
                on_delete=deltype if kind == "f" else "a",
            )
        )

    for row in conn.execute(
        text(
            "SELECT i.indrelid, ic.relname, i.indkey::int2[], i.indisunique, "
            "pg_get_expr(i.indpred, i.indrelid), i.indexprs IS NOT NULL, "
            "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
            "        AND k.conrelid = i.indrelid) "
            "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
            "WHERE i.indrelid = ANY(:oids) ORDER BY ic.relname"
        ),
        {"oids": list(names_by_oid)},
    ):
        relid, name, key, unique, predicate, has_expressions, backs = row
        columns = None if has_expressions or 0 in key else cols(relid, list(key))
        tables[names_by_oid[relid]].indexes.append(
            IndexInfo(name, columns, unique, predicate, backs)
        )

    sequences: dict[str, SequenceInfo] = {}
    for row in conn.execute(
        text(
            "SELECT c.relname, s.seqtypid::regtype::text, s.seqincrement, ps.last_value, "
            "d.refobjid, d.refobjsubid, d.deptype::text "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_sequence s ON s.seqrelid = c.oid "
            "LEFT JOIN pg_sequences ps "
            "     ON ps.schemaname = n.nspname AND ps.sequencename = c.relname "
            "LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass "
            "     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
            "WHERE n.nspname = :schema AND c.relkind = 'S' ORDER BY c.relname"
        ),
        params,
    ):
        name, data_type, increment, last_value, refobj, refsub, deptype = row
        owner = None
        if refobj in names_by_oid and (refobj, refsub) in attnames:
            owner = (names_by_oid[refobj], attnames[(refobj, refsub)])
        sequences[name] = SequenceInfo(
            name=name,
            data_type=data_type,
            increment=int(increment),
            last_value=None if last_value is None else int(last_value),
            owner=owner,
            identity=deptype == "i",
        )

    column_views: dict[tuple[str, str], list[str]] = {}
    for view, table, column in conn.execute(
        text(
            "SELECT DISTINCT v.relname, t.relname, a.attname FROM pg_depend d "
            "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
            "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
            "AND v.oid <> t.oid AND t.oid = ANY(:oids) ORDER BY 1"
        ),
        {"oids": list(names_by_oid)},
    ):
        column_views.setdefault((table, column), []).append(view)

    preparer = conn.dialect.identifier_preparer
    for info in tables.values():
        info.rows = int(
            conn.execute(text(f"SELECT count(*) FROM {preparer.quote(info.name)}")).scalar() or 0
        )

    return Snapshot(
        schema=str(schema),
        tables=tables,
        sequences=sequences,
        views=views,
        column_views=column_views,
        dbmate_versions=_single_column(conn, DBMATE_TABLE, "version", tables),
        alembic_revision=_first(_single_column(conn, ALEMBIC_TABLE, "version_num", tables)),
        session_timezone=timezone,
    )


def _single_column(
    conn: Connection, table: str, column: str, tables: dict[str, TableInfo]
) -> list[str] | None:
    if table not in tables or column not in tables[table].columns:
        return None
    rows: list[Any] = list(conn.execute(text(f"SELECT {column} FROM {table} ORDER BY 1")).scalars())
    return [str(value) for value in rows]


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None
