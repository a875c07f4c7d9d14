"""Id sequences: every generated id draws from ``<table>_id_seq``, as a BIGSERIAL of ours does.

The Java databases hold three kinds: the dump's explicit sequences (some ``OWNED BY`` their column,
some not), dbmate's (``client_authentication_token_id_seq``, not owned) and Hibernate's identity
columns. Each becomes a ``bigint`` sequence counting by 1, named ``<table>_<column>_seq`` and owned
by its column; then, last of all (``setval`` is not transactional), each is moved past the highest
id of its table and never backwards: an identity's last value is remembered before it is dropped.
"""

from __future__ import annotations

from visa_platform.db.adopt.catalog import Snapshot, TableInfo, sequence_in_default
from visa_platform.db.adopt.plan_model import Diff, Kept, Phase, Problem, Step
from visa_platform.db.adopt.sql import ident, regclass
from visa_platform.db.adopt.target import TargetTable


def diff_sequences(snapshot: Snapshot, targets: dict[str, TargetTable], diff: Diff) -> None:
    """Add to ``diff`` the steps that give every id column of ours its sequence."""
    _Sequences(snapshot, targets, diff).run()


class _Sequences:
    def __init__(self, snapshot: Snapshot, targets: dict[str, TargetTable], diff: Diff) -> None:
        self.db = snapshot
        self.targets = targets
        self.diff = diff
        self.floors: dict[str, int] = {}
        """table -> the last id its identity handed out (lost when the identity is dropped)."""
        self.renamed: set[str] = set()

    def step(self, phase: Phase, table: str | None, summary: str, *sql: str) -> None:
        self.diff.steps.append(Step(phase, table, summary, tuple(sql)))

    def problem(self, table: str | None, message: str) -> None:
        self.diff.problems.append(Problem(table, message))

    def keep(self, kind: str, table: str | None, name: str, reason: str) -> None:
        self.diff.kept.append(Kept(kind, table, name, reason))

    def run(self) -> None:
        defaults_using: dict[str, list[tuple[str, str]]] = {}
        for table in self.db.tables.values():
            for column in table.columns.values():
                seq = sequence_in_default(column.default)
                if seq is not None:
                    defaults_using.setdefault(seq, []).append((table.name, column.name))
        wanted_names: set[str] = set()
        moves: list[str] = []
        for target in self.targets.values():
            if target.serial_column is None or target.serial_sequence is None:
                continue
            wanted_names.add(target.serial_sequence)
            if target.name in self.db.tables:
                self.sequence_of(target, self.db.tables[target.name], defaults_using)
            moves.append(
                _setval(target.name, target.serial_column, target.serial_sequence, self.floors)
            )
        self.step(
            Phase.SEQUENCE_VALUES,
            None,
            f"move the {len(moves)} id sequences past the highest id of their table "
            "(never backwards)",
            *moves,
        )
        for name, sequence in self.db.sequences.items():
            used = defaults_using.get(name, [])
            if name in wanted_names or sequence.identity or name in self.renamed:
                continue
            if any(t in self.targets for t, _ in used):
                continue
            self.keep("sequence", None, name, "not used by our tables, kept as it is")

    def sequence_of(
        self,
        target: TargetTable,
        db: TableInfo,
        defaults_using: dict[str, list[tuple[str, str]]],
    ) -> None:
        assert target.serial_column is not None and target.serial_sequence is not None
        column_name = target.serial_column
        wanted = target.serial_sequence
        if column_name not in db.columns:
            return
        column = db.columns[column_name]
        table = ident(db.name)
        col = ident(column_name)
        own = f"ALTER SEQUENCE {ident(wanted)} OWNED BY {table}.{col}"
        set_default = (
            f"ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT nextval({regclass(wanted)})"
        )
        create = f"CREATE SEQUENCE {ident(wanted)} AS bigint OWNED BY {table}.{col}"
        existing = self.db.sequences.get(wanted)
        current = sequence_in_default(column.default)
        if column.identity:
            identity = next(
                (
                    s
                    for s in self.db.sequences.values()
                    if s.identity and s.owner == (db.name, column_name)
                ),
                None,
            )
            if identity is not None and identity.last_value is not None:
                self.floors[db.name] = identity.last_value
            if existing is not None and existing is not identity:
                self.problem(db.name, f"sequence name {wanted} is taken by another sequence")
                return
            self.step(
                Phase.SEQUENCES,
                db.name,
                f"replace the identity of {column_name} by sequence {wanted} (as ours)",
                f"ALTER TABLE {table} ALTER COLUMN {col} DROP IDENTITY",
                create,
                set_default,
            )
            return
        if current == wanted and existing is not None:
            if existing.owner != (db.name, column_name):
                self.step(Phase.SEQUENCES, db.name, f"let {column_name} own sequence {wanted}", own)
        elif (
            current is not None
            and current in self.db.sequences
            and existing is None
            and (len(defaults_using.get(current, [])) == 1)
        ):
            self.renamed.add(current)
            self.step(
                Phase.SEQUENCES,
                db.name,
                f"rename sequence {current} to {wanted}, owned by {column_name}",
                f"ALTER SEQUENCE {ident(current)} RENAME TO {ident(wanted)}",
                own,
            )
            existing = self.db.sequences[current]
        elif existing is not None and not defaults_using.get(wanted) and existing.owner is None:
            self.step(
                Phase.SEQUENCES,
                db.name,
                f"draw {column_name} from the unused sequence {wanted}",
                own,
                set_default,
            )
        elif existing is None:
            self.step(
                Phase.SEQUENCES,
                db.name,
                f"draw {column_name} from a new sequence {wanted}",
                create,
                set_default,
            )
            return
        else:
            self.problem(db.name, f"sequence name {wanted} is taken by another table's sequence")
            return
        if existing is not None and (existing.data_type != "bigint" or existing.increment != 1):
            self.step(
                Phase.SEQUENCES,
                db.name,
                f"make sequence {wanted} a bigint counting by 1 (as ours)",
                f"ALTER SEQUENCE {ident(wanted)} AS bigint INCREMENT BY 1",
            )


def _setval(table: str, column: str, sequence: str, floors: dict[str, int]) -> str:
    """Move the sequence past the highest id (and never back): the next id is free."""
    floor = floors.get(table, 0)
    used = (
        f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
        f"FROM {ident(sequence)})"
    )
    highest = f"(SELECT COALESCE(MAX({ident(column)}), 0) FROM {ident(table)})"
    return (
        f"SELECT setval({regclass(sequence)}, GREATEST(v, 1), v > 0) "
        f"FROM (SELECT GREATEST({highest}, {used}, {floor}) AS v) AS highest"
    )
