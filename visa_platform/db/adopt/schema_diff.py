"""Compare the inspected schema with our models and list the changes that make them equal.

Pure: it reads a :class:`~visa_platform.db.adopt.catalog.Snapshot` and the model targets and
returns steps, the preconditions the rows must meet, problems, and what it keeps. The rules:

* every table, column, primary key, enum CHECK, unique constraint, index, foreign key and id
  sequence of the models must exist with our name and definition; found under another name it is
  renamed, with another definition it is replaced, missing it is added;
* ``timestamp without time zone`` columns become ``timestamptz``, reading the stored values as
  local time of the source time zone;
* nothing we do not know is dropped: legacy columns, dbmate's table, and (with ``keep_unknown``)
  unknown tables and columns are kept and listed, as are extra indexes and constraints. Only
  duplicates of a constraint we keep, and superseded enum CHECKs, are dropped.
"""

from __future__ import annotations

import re

from visa_platform.db.adopt.catalog import (
    ALEMBIC_TABLE,
    ColumnInfo,
    ConstraintInfo,
    Snapshot,
    TableInfo,
)
from visa_platform.db.adopt.id_sequences import diff_sequences
from visa_platform.db.adopt.java_schema import DBMATE_TABLE, LEGACY_COLUMNS
from visa_platform.db.adopt.plan_model import Diff, Kept, Phase, Precondition, Problem, Step
from visa_platform.db.adopt.sql import ident, idents, literal
from visa_platform.db.adopt.target import (
    ON_DELETE_SQL,
    TargetColumn,
    TargetTable,
    normalize_default,
    normalize_predicate,
)

TIMESTAMPTZ = "timestamp with time zone"
_NAIVE_TIMESTAMP = re.compile(r"^timestamp(\(\d\))? without time zone$")
_INTEGERS = {"smallint": 2, "integer": 4, "bigint": 8}
_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
_CHECK_VALUE = re.compile(r"'((?:[^']|'')*)'")


def is_naive_timestamp(type_: str) -> bool:
    """``timestamp [(p)] without time zone``, as the Java server (and Hibernate) created them."""
    return bool(_NAIVE_TIMESTAMP.match(type_))


def check_values(definition: str) -> tuple[str, ...]:
    """The string literals of a CHECK definition (the allowed enum names), in order."""
    return tuple(m.replace("''", "'") for m in _CHECK_VALUE.findall(definition))


def diff_schema(
    snapshot: Snapshot,
    targets: dict[str, TargetTable],
    *,
    timezone: str,
    keep_unknown: bool,
) -> Diff:
    """The changes that turn ``snapshot`` into the schema of ``targets``."""
    differ = _Differ(snapshot, targets, timezone, keep_unknown)
    differ.run()
    return differ.diff


class _Differ:
    def __init__(
        self,
        snapshot: Snapshot,
        targets: dict[str, TargetTable],
        timezone: str,
        keep_unknown: bool,
    ) -> None:
        self.db = snapshot
        self.targets = targets
        self.timezone = timezone
        self.keep_unknown = keep_unknown
        self.diff = Diff()
        self.indexes_made_constraints: set[str] = set()

    # -- helpers -------------------------------------------------------------------------------

    def step(self, phase: Phase, table: str | None, summary: str, *sql: str) -> None:
        self.diff.steps.append(Step(phase, table, summary, tuple(sql)))

    def need(self, precondition: Precondition) -> None:
        self.diff.preconditions.append(precondition)

    def problem(self, table: str | None, message: str) -> None:
        self.diff.problems.append(Problem(table, message))

    def keep(self, kind: str, table: str | None, name: str, reason: str) -> None:
        self.diff.kept.append(Kept(kind, table, name, reason))

    # -- driver --------------------------------------------------------------------------------

    def run(self) -> None:
        for name, target in self.targets.items():
            if name in self.db.tables:
                self.existing_table(target, self.db.tables[name])
            else:
                self.step(
                    Phase.TABLES,
                    name,
                    "create the table (new in this version)",
                    *target.create_sql,
                )
        for name, table in self.db.tables.items():
            if name in self.targets or name == ALEMBIC_TABLE:
                continue
            if name == DBMATE_TABLE:
                self.keep("table", None, name, "dbmate's record of the Java migrations, unused")
            elif self.keep_unknown:
                self.keep("table", None, name, "unknown to this version, kept (--keep-unknown)")
            else:
                self.problem(
                    name,
                    f"unknown table ({table.rows} rows): a newer Java VISA or a site addition? "
                    "Pass --keep-unknown to keep it as it is",
                )
        for view, kind in self.db.views.items():
            self.keep("view", None, view, f"{kind}, kept as it is")
        diff_sequences(self.db, self.targets, self.diff)

    def existing_table(self, target: TargetTable, db: TableInfo) -> None:
        self.extra_columns(target, db)
        self.types(target, db)
        self.missing_columns(target, db)
        self.nullability(target, db)
        self.defaults(target, db)
        self.primary_key(target, db)
        self.checks(target, db)
        self.uniques(target, db)
        self.indexes(target, db)
        self.foreign_keys(target, db)

    # -- columns -------------------------------------------------------------------------------

    def extra_columns(self, target: TargetTable, db: TableInfo) -> None:
        for column in db.columns.values():
            if column.name in target.columns:
                continue
            legacy = LEGACY_COLUMNS.get((db.name, column.name))
            if legacy is not None:
                self.keep("column", db.name, column.name, f"legacy: {legacy}")
                if not column.nullable and column.default is None:
                    self.step(
                        Phase.LEGACY,
                        db.name,
                        f"let the legacy column {column.name} be null (our server never writes it)",
                        f"ALTER TABLE {ident(db.name)} ALTER COLUMN {ident(column.name)} "
                        "DROP NOT NULL",
                    )
            elif not self.keep_unknown:
                self.problem(
                    db.name,
                    f"unknown column {column.name} ({column.type}): a newer Java VISA or a site "
                    "addition? Pass --keep-unknown to keep it as it is",
                )
            elif not column.nullable and column.default is None and not column.identity:
                self.problem(
                    db.name,
                    f"unknown column {column.name} is NOT NULL without a default: this server "
                    "could not insert rows into the table",
                )
            else:
                self.keep(
                    "column", db.name, column.name, "unknown to this version (--keep-unknown)"
                )

    def types(self, target: TargetTable, db: TableInfo) -> None:
        stamps: list[str] = []
        for column in db.columns.values():
            wanted = target.columns.get(column.name)
            legacy = (db.name, column.name) in LEGACY_COLUMNS
            if wanted is None and not legacy:
                continue
            wanted_type = wanted.type if wanted is not None else column.type
            if is_naive_timestamp(column.type) and (wanted_type == TIMESTAMPTZ or legacy):
                stamps.append(column.name)
            elif wanted is not None and column.type != wanted.type:
                self.change_type(db, column, wanted)
            else:
                continue
            self.no_view_on(db.name, column.name)
        if stamps:
            zone = literal(self.timezone)
            clauses = ", ".join(
                f"ALTER COLUMN {ident(c)} TYPE TIMESTAMP WITH TIME ZONE USING {ident(c)} "
                f"AT TIME ZONE {zone}"
                for c in stamps
            )
            self.step(
                Phase.TYPES,
                db.name,
                f"convert {len(stamps)} timestamp(s) to timestamptz, reading them as "
                f"{self.timezone} local time: {', '.join(stamps)}",
                f"ALTER TABLE {ident(db.name)} {clauses}",
            )

    def change_type(self, db: TableInfo, column: ColumnInfo, wanted: TargetColumn) -> None:
        alter = f"ALTER TABLE {ident(db.name)} ALTER COLUMN {ident(column.name)} "
        summary = f"change {column.name} from {column.type} to {wanted.type}"
        old_varchar = _VARCHAR.match(column.type)
        if _VARCHAR.match(wanted.type) and (old_varchar or column.type == "text"):
            old_length = int(old_varchar.group(1)) if old_varchar and old_varchar.group(1) else None
            if wanted.max_length is not None and (
                old_length is None or old_length > wanted.max_length
            ):
                self.need(
                    Precondition(
                        "max_length",
                        db.name,
                        (column.name,),
                        f"type {wanted.type}",
                        max_length=wanted.max_length,
                    )
                )
            self.step(Phase.TYPES, db.name, summary, alter + f"TYPE {wanted.type_sql}")
        elif column.type in _INTEGERS and wanted.type in _INTEGERS:
            self.step(Phase.TYPES, db.name, summary, alter + f"TYPE {wanted.type_sql}")
        else:
            self.step(
                Phase.TYPES,
                db.name,
                summary + " (cast)",
                alter + f"TYPE {wanted.type_sql} USING {ident(column.name)}::{wanted.type_sql}",
            )

    def no_view_on(self, table: str, column: str) -> None:
        views = self.db.column_views.get((table, column))
        if views:
            self.problem(
                table,
                f"the type of column {column} must change but view(s) {', '.join(views)} use it: "
                "drop them before adoption and create them again afterwards",
            )

    def missing_columns(self, target: TargetTable, db: TableInfo) -> None:
        for wanted in target.columns.values():
            if wanted.name in db.columns:
                continue
            if not wanted.nullable and wanted.default is None and db.rows > 0:
                self.problem(
                    db.name,
                    f"column {wanted.name} is missing and required (NOT NULL, no default), and "
                    f"the table has {db.rows} rows: no value to fill it with",
                )
                continue
            self.step(
                Phase.COLUMNS,
                db.name,
                f"add column {wanted.name} {wanted.type}",
                f"ALTER TABLE {ident(db.name)} ADD COLUMN {wanted.definition}",
            )

    def nullability(self, target: TargetTable, db: TableInfo) -> None:
        for column in db.columns.values():
            wanted = target.columns.get(column.name)
            if wanted is None or wanted.nullable == column.nullable:
                continue
            alter = f"ALTER TABLE {ident(db.name)} ALTER COLUMN {ident(column.name)}"
            if wanted.nullable:
                self.step(
                    Phase.NULLABILITY,
                    db.name,
                    f"let {column.name} be null",
                    alter + " DROP NOT NULL",
                )
            else:
                self.need(
                    Precondition("not_null", db.name, (column.name,), f"NOT NULL on {column.name}")
                )
                self.step(
                    Phase.NULLABILITY,
                    db.name,
                    f"make {column.name} NOT NULL",
                    alter + " SET NOT NULL",
                )

    def defaults(self, target: TargetTable, db: TableInfo) -> None:
        clauses: list[str] = []
        changes: list[str] = []
        for column in db.columns.values():
            wanted = target.columns.get(column.name)
            if wanted is None or column.name == target.serial_column:
                continue
            alter = f"ALTER COLUMN {ident(column.name)}"
            if column.identity:
                clauses.append(f"{alter} DROP IDENTITY")
                changes.append(f"stop generating {column.name}")
            if normalize_default(column.default) == normalize_default(wanted.default):
                continue
            if wanted.default is None:
                clauses.append(f"{alter} DROP DEFAULT")
                changes.append(f"no default for {column.name} (was {column.default})")
            else:
                clauses.append(f"{alter} SET DEFAULT {wanted.default}")
                changes.append(f"{column.name} defaults to {wanted.default}")
        if clauses:
            self.step(
                Phase.DEFAULTS,
                db.name,
                "; ".join(changes),
                f"ALTER TABLE {ident(db.name)} " + ", ".join(clauses),
            )

    # -- constraints and indexes ---------------------------------------------------------------

    def primary_key(self, target: TargetTable, db: TableInfo) -> None:
        found = db.primary_key
        table = ident(db.name)
        add = f"ADD CONSTRAINT {ident(target.pk_name)} PRIMARY KEY ({idents(target.pk_columns)})"
        if found is None:
            if not all(c in db.columns for c in target.pk_columns):
                return  # a missing key column is reported by missing_columns
            for column in target.pk_columns:
                if db.columns[column].nullable:
                    self.need(
                        Precondition(
                            "not_null", db.name, (column,), f"primary key {target.pk_name}"
                        )
                    )
            self.need(
                Precondition("unique", db.name, target.pk_columns, f"primary key {target.pk_name}")
            )
            self.step(
                Phase.PRIMARY_KEYS,
                db.name,
                f"add primary key {target.pk_name} ({', '.join(target.pk_columns)})",
                f"ALTER TABLE {table} {add}",
            )
        elif found.columns != target.pk_columns:
            if set(found.columns) != set(target.pk_columns):
                self.problem(
                    db.name,
                    f"primary key {found.name} is on ({', '.join(found.columns)}), ours on "
                    f"({', '.join(target.pk_columns)})",
                )
                return
            self.step(
                Phase.PRIMARY_KEYS,
                db.name,
                f"rebuild primary key as {target.pk_name} ({', '.join(target.pk_columns)})",
                f"ALTER TABLE {table} DROP CONSTRAINT {ident(found.name)}, {add}",
            )
        elif found.name != target.pk_name:
            self.rename_constraint(db.name, found.name, target.pk_name, "primary key")

    def rename_constraint(self, table: str, old: str, new: str, what: str) -> None:
        self.step(
            self.phase_of(what),
            table,
            f"rename {what} {old} to {new}",
            f"ALTER TABLE {ident(table)} RENAME CONSTRAINT {ident(old)} TO {ident(new)}",
        )

    @staticmethod
    def phase_of(what: str) -> Phase:
        return {
            "primary key": Phase.PRIMARY_KEYS,
            "check": Phase.CHECKS,
            "unique constraint": Phase.UNIQUES,
            "foreign key": Phase.FOREIGN_KEYS,
        }[what]

    def checks(self, target: TargetTable, db: TableInfo) -> None:
        enum_columns = {check.column for check in target.checks}
        for check in target.checks:
            if check.column not in db.columns:
                found: list[ConstraintInfo] = []
            else:
                found = [c for c in db.constraints_of("c") if c.columns == (check.column,)]
            same = [
                c
                for c in found
                if c.name == check.name and check_values(c.definition) == check.values
            ]
            if same and len(found) == 1:
                continue
            values = ", ".join(literal(v) for v in check.values)
            clauses = [f"DROP CONSTRAINT {ident(c.name)}" for c in found]
            clauses.append(
                f"ADD CONSTRAINT {ident(check.name)} CHECK ({ident(check.column)} IN ({values}))"
            )
            replaced = ", ".join(c.name for c in found)
            summary = (
                f"replace check {replaced} by {check.name}" if found else f"add check {check.name}"
            )
            self.need(
                Precondition(
                    "values_in",
                    db.name,
                    (check.column,),
                    f"check {check.name}",
                    values=check.values,
                )
            )
            self.step(
                Phase.CHECKS,
                db.name,
                f"{summary} ({check.column} in {', '.join(check.values)})",
                f"ALTER TABLE {ident(db.name)} " + ", ".join(clauses),
            )
        ours = {check.name for check in target.checks}
        for constraint in db.constraints_of("c"):
            if constraint.name in ours or (
                len(constraint.columns) == 1 and constraint.columns[0] in enum_columns
            ):
                continue
            self.keep("constraint", db.name, constraint.name, f"extra {constraint.definition}")

    def uniques(self, target: TargetTable, db: TableInfo) -> None:
        matched: set[str] = set()
        for unique in target.uniques:
            found = [c for c in db.constraints_of("u") if c.columns == unique.columns]
            found.sort(key=lambda c: c.name != unique.name)
            if found:
                matched.update(c.name for c in found)
                if found[0].name != unique.name:
                    self.rename_constraint(db.name, found[0].name, unique.name, "unique constraint")
                for duplicate in found[1:]:
                    self.drop_constraint(db.name, duplicate.name, "duplicate unique constraint")
                continue
            index = next(
                (
                    i
                    for i in db.indexes
                    if i.unique
                    and not i.backs_constraint
                    and i.columns == unique.columns
                    and i.predicate is None
                ),
                None,
            )
            add = f"ALTER TABLE {ident(db.name)} ADD CONSTRAINT {ident(unique.name)} UNIQUE"
            if index is not None:
                self.step(
                    Phase.UNIQUES,
                    db.name,
                    f"turn unique index {index.name} into unique constraint {unique.name}",
                    f"{add} USING INDEX {ident(index.name)}",
                )
                matched.add(index.name)
                continue
            self.need(
                Precondition("unique", db.name, unique.columns, f"unique constraint {unique.name}")
            )
            self.step(
                Phase.UNIQUES,
                db.name,
                f"add unique constraint {unique.name} ({', '.join(unique.columns)})",
                f"{add} ({idents(unique.columns)})",
            )
        for constraint in db.constraints_of("u"):
            if constraint.name not in matched:
                self.keep("constraint", db.name, constraint.name, f"extra {constraint.definition}")
        self.indexes_made_constraints = matched

    def drop_constraint(self, table: str, name: str, why: str) -> None:
        self.step(
            Phase.UNIQUES if "unique" in why else Phase.FOREIGN_KEYS,
            table,
            f"drop {why} {name}",
            f"ALTER TABLE {ident(table)} DROP CONSTRAINT {ident(name)}",
        )

    def indexes(self, target: TargetTable, db: TableInfo) -> None:
        used = self.indexes_made_constraints
        candidates = [i for i in db.indexes if not i.backs_constraint and i.name not in used]
        for index in target.indexes:
            match = next(
                (
                    i
                    for i in sorted(candidates, key=lambda i: i.name != index.name)
                    if i.columns == index.columns
                    and i.unique == index.unique
                    and normalize_predicate(i.predicate) == normalize_predicate(index.predicate)
                ),
                None,
            )
            if match is not None:
                candidates.remove(match)
                if match.name != index.name:
                    self.step(
                        Phase.INDEXES,
                        db.name,
                        f"rename index {match.name} to {index.name}",
                        f"ALTER INDEX {ident(match.name)} RENAME TO {ident(index.name)}",
                    )
                continue
            if index.unique:
                self.need(
                    Precondition(
                        "unique",
                        db.name,
                        index.columns,
                        f"unique index {index.name}",
                        predicate=index.predicate,
                    )
                )
            self.step(
                Phase.INDEXES,
                db.name,
                f"create index {index.name} ({', '.join(index.columns)})"
                + (f" where {index.predicate}" if index.predicate else ""),
                index.create_sql,
            )
        for extra in candidates:
            self.keep("index", db.name, extra.name, "extra index")

    def foreign_keys(self, target: TargetTable, db: TableInfo) -> None:
        remaining = list(db.constraints_of("f"))
        for fk in target.foreign_keys:
            found = [
                c
                for c in remaining
                if c.columns == fk.columns
                and c.ref_table == fk.ref_table
                and c.ref_columns == fk.ref_columns
            ]
            found.sort(key=lambda c: (c.on_delete != fk.on_delete, c.name != fk.name))
            for c in found:
                remaining.remove(c)
            for duplicate in found[1:]:
                self.drop_constraint(db.name, duplicate.name, "duplicate foreign key")
            add = (
                f"ADD CONSTRAINT {ident(fk.name)} FOREIGN KEY ({idents(fk.columns)}) "
                f"REFERENCES {ident(fk.ref_table)} ({idents(fk.ref_columns)})"
            )
            if fk.on_delete != "a":
                add += f" ON DELETE {ON_DELETE_SQL[fk.on_delete]}"
            described = f"{fk.name} ({', '.join(fk.columns)}) -> {fk.ref_table}"
            if found and found[0].on_delete == fk.on_delete:
                if found[0].name != fk.name:
                    self.rename_constraint(db.name, found[0].name, fk.name, "foreign key")
            elif found:
                self.step(
                    Phase.FOREIGN_KEYS,
                    db.name,
                    f"replace foreign key {found[0].name} by {described} "
                    f"on delete {ON_DELETE_SQL[fk.on_delete].lower()}",
                    f"ALTER TABLE {ident(db.name)} DROP CONSTRAINT {ident(found[0].name)}, {add}",
                )
            else:
                if all(c in db.columns for c in fk.columns):
                    self.need(
                        Precondition(
                            "references",
                            db.name,
                            fk.columns,
                            f"foreign key {fk.name}",
                            ref_table=fk.ref_table,
                            ref_columns=fk.ref_columns,
                            ref_exists=fk.ref_table in self.db.tables,
                        )
                    )
                self.step(
                    Phase.FOREIGN_KEYS,
                    db.name,
                    f"add foreign key {described}",
                    f"ALTER TABLE {ident(db.name)} {add}",
                )
        for extra in remaining:
            self.keep("constraint", db.name, extra.name, f"extra {extra.definition}")
