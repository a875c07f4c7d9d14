"""What our models want the PostgreSQL schema to be, in a form comparable with the catalogue.

Types, defaults and predicates are normalised to the way PostgreSQL prints them, so that a
``VARCHAR(250)`` of a model equals a ``character varying(250)`` read from ``format_type``. The DDL
for whole tables and indexes is compiled from the same metadata as the baseline migration, so an
adopted table is created exactly as ``visa db upgrade`` would create it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateColumn, CreateIndex, CreateTable

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]

_ON_DELETE = {None: "a", "NO ACTION": "a", "RESTRICT": "r", "CASCADE": "c", "SET NULL": "n"}
_ON_DELETE["SET DEFAULT"] = "d"
ON_DELETE_SQL = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL"}
ON_DELETE_SQL["d"] = "SET DEFAULT"


@dataclass(frozen=True)
class TargetColumn:
    name: str
    type: str
    """Normalised, e.g. ``character varying(250)``."""
    type_sql: str
    """As DDL, e.g. ``VARCHAR(250)``."""
    nullable: bool
    default: str | None
    """Server default as DDL (``CURRENT_TIMESTAMP``, ``false`` ...); sequences excluded."""
    definition: str
    """The column's DDL for ``ADD COLUMN``."""
    max_length: int | None


@dataclass(frozen=True)
class TargetCheck:
    """The CHECK of an enum column: the column may only hold these names."""

    name: str
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class TargetForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str


@dataclass(frozen=True)
class TargetUnique:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class TargetIndex:
    name: str
    columns: tuple[str, ...]
    unique: bool
    predicate: str | None
    create_sql: str


@dataclass
class TargetTable:
    name: str
    table: sa.Table
    columns: dict[str, TargetColumn] = field(default_factory=dict)
    pk_name: str = ""
    pk_columns: tuple[str, ...] = ()
    serial_column: str | None = None
    """The autoincrementing id column (a BIGSERIAL: sequence ``<table>_<column>_seq``)."""
    checks: list[TargetCheck] = field(default_factory=list)
    foreign_keys: list[TargetForeignKey] = field(default_factory=list)
    uniques: list[TargetUnique] = field(default_factory=list)
    indexes: list[TargetIndex] = field(default_factory=list)
    create_sql: list[str] = field(default_factory=list)

    @property
    def serial_sequence(self) -> str | None:
        return f"{self.name}_{self.serial_column}_seq" if self.serial_column else None


def normalize_type(type_sql: str) -> str:
    """``VARCHAR(250)`` -> ``character varying(250)``, as ``format_type`` prints types."""
    value = " ".join(type_sql.lower().split())
    value = re.sub(r"^varchar\b", "character varying", value)
    if value == "timestamp":
        value = "timestamp without time zone"
    return {"bool": "boolean", "int": "integer", "int4": "integer", "int8": "bigint"}.get(
        value, value
    )


def normalize_default(default: str | None) -> str | None:
    """``'en-gb-qwerty'::character varying`` -> ``'en-gb-qwerty'``; ``now()`` stays ``now()``."""
    if default is None:
        return None
    value = re.sub(r"::[a-z ]+(\(\d+\))?(\[\])?", "", default.strip())
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    return value.lower()


def normalize_predicate(predicate: str | None) -> str | None:
    if predicate is None:
        return None
    return re.sub(r"[\s()]", "", predicate).lower()


def _default_sql(column: sa.Column[object]) -> str | None:
    default = column.server_default
    if default is None or not isinstance(default, sa.DefaultClause):
        return None
    arg = default.arg
    if isinstance(arg, str):
        return "'" + arg.replace("'", "''") + "'"
    if isinstance(arg, sa.TextClause):
        return arg.text
    return str(arg.compile(dialect=DIALECT))


def target_tables(metadata: sa.MetaData) -> dict[str, TargetTable]:
    """Every table of the models, in dependency order (referenced tables first)."""
    result: dict[str, TargetTable] = {}
    for table in metadata.sorted_tables:
        target = TargetTable(name=table.name, table=table)
        autoincrement = table.autoincrement_column
        target.serial_column = autoincrement.name if autoincrement is not None else None
        for column in table.columns:
            type_sql = column.type.compile(dialect=DIALECT)
            length = getattr(column.type, "length", None)
            target.columns[column.name] = TargetColumn(
                name=column.name,
                type=normalize_type(type_sql),
                type_sql=type_sql,
                nullable=bool(column.nullable),
                default=_default_sql(column),
                definition=str(CreateColumn(column).compile(dialect=DIALECT)).strip(),
                max_length=length if isinstance(length, int) else None,
            )
            if isinstance(column.type, sa.Enum) and column.type.create_constraint:
                target.checks.append(
                    TargetCheck(
                        name=f"{column.type.name}_check",
                        column=column.name,
                        values=tuple(column.type.enums),
                    )
                )
        pk = table.primary_key
        target.pk_name = str(pk.name)
        target.pk_columns = tuple(c.name for c in pk.columns)
        for constraint in table.constraints:
            if isinstance(constraint, sa.ForeignKeyConstraint):
                target.foreign_keys.append(
                    TargetForeignKey(
                        name=str(constraint.name),
                        columns=tuple(c.name for c in constraint.columns),
                        ref_table=constraint.referred_table.name,
                        ref_columns=tuple(e.column.name for e in constraint.elements),
                        on_delete=_ON_DELETE[
                            constraint.ondelete.upper() if constraint.ondelete else None
                        ],
                    )
                )
            elif isinstance(constraint, sa.UniqueConstraint):
                target.uniques.append(
                    TargetUnique(str(constraint.name), tuple(c.name for c in constraint.columns))
                )
        declared_checks = {
            str(c.name) for c in table.constraints if isinstance(c, sa.CheckConstraint)
        }
        missing = {check.name for check in target.checks} - declared_checks
        if missing:  # pragma: no cover - guards the naming convention assumption
            raise AssertionError(f"{table.name}: enum checks not declared as named: {missing}")
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            where = index.dialect_options["postgresql"].get("where")
            target.indexes.append(
                TargetIndex(
                    name=str(index.name),
                    columns=tuple(c.name for c in index.columns),
                    unique=bool(index.unique),
                    predicate=None if where is None else str(where),
                    create_sql=str(CreateIndex(index).compile(dialect=DIALECT)).strip(),
                )
            )
        target.create_sql = [str(CreateTable(table).compile(dialect=DIALECT)).strip()]
        target.create_sql += [index.create_sql for index in target.indexes]
        result[table.name] = target
    return result
