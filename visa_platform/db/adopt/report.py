"""The adoption report for operators: what was found, which release, what changes, what stays."""

from __future__ import annotations

import textwrap

from visa_platform.db.adopt.plan_model import Phase, Plan

_PHASE_LABELS = {
    Phase.LEGACY: "legacy",
    Phase.TYPES: "types",
    Phase.COLUMNS: "columns",
    Phase.NULLABILITY: "null",
    Phase.DEFAULTS: "defaults",
    Phase.PRIMARY_KEYS: "primary keys",
    Phase.TABLES: "tables",
    Phase.CHECKS: "checks",
    Phase.UNIQUES: "unique",
    Phase.INDEXES: "indexes",
    Phase.FOREIGN_KEYS: "foreign keys",
    Phase.SEQUENCES: "sequences",
    Phase.STAMP: "revision",
    Phase.SEQUENCE_VALUES: "sequence values",
}


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, 100, initial_indent=indent, subsequent_indent=indent + "  ")


def format_report(plan: Plan, *, database: str, applied: bool, show_sql: bool = False) -> str:
    snapshot = plan.snapshot
    lines = [
        f"Database: {database}, schema {snapshot.schema} "
        f"(session time zone {snapshot.session_timezone})"
    ]
    rows = sum(t.rows for t in snapshot.tables.values())
    lines.append(
        f"Found: {len(snapshot.tables)} tables holding {rows} rows, {len(snapshot.views)} views, "
        f"{len(snapshot.sequences)} sequences"
    )
    if snapshot.tables:
        counts = ", ".join(f"{name} {t.rows}" for name, t in sorted(snapshot.tables.items()))
        lines += _wrap(f"rows: {counts}")
    if snapshot.dbmate_versions is not None:
        lines.append(f"dbmate migrations: {', '.join(snapshot.dbmate_versions) or 'none'}")
    if snapshot.alembic_revision is not None:
        lines.append(f"visa-platform revision: {snapshot.alembic_revision}")
    if plan.version is not None:
        lines.append(f"Looks like: Java VISA {plan.version.release}")
        if plan.version.present:
            lines += _wrap("features present: " + ", ".join(plan.version.present))
    tz = plan.source_timezone
    lines.append(f"Source time zone: {tz.name} (from {tz.origin})")
    lines.append("")

    if plan.already_adopted:
        lines.append(
            f"Already adopted: the schema is at revision {snapshot.alembic_revision} and equals "
            "ours. Nothing to do."
        )
    elif plan.steps:
        verb = "Adoption made" if applied else "Adoption would make"
        when = " once the problems below are fixed" if plan.refused else ""
        lines.append(f"{verb} {len(plan.steps)} change(s){when}, in one transaction:")
        for number, step in enumerate(plan.ordered_steps(), 1):
            lines += _wrap(f"{number}. [{_PHASE_LABELS[step.phase]}] {step}")
            if show_sql:
                for statement in step.sql:
                    lines += _wrap(statement + ";", "       ")
    if plan.kept:
        lines.append("")
        lines.append(f"Kept as they are ({len(plan.kept)}):")
        for kept in plan.kept:
            lines += _wrap(f"- {kept}")
    if plan.notes:
        lines.append("")
        lines.append("Notes:")
        for note in plan.notes:
            lines += _wrap(f"- {note}")
    if plan.refused:
        lines.append("")
        lines.append(f"Adoption refused ({len(plan.problems)} problem(s)); nothing was changed:")
        for problem in plan.problems:
            lines += _wrap(f"- {problem}")
    return "\n".join(lines) + "\n"
