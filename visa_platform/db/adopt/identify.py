"""Is this a Java VISA database, and which release does it look like?"""

from __future__ import annotations

from visa_platform.db.adopt.catalog import Snapshot
from visa_platform.db.adopt.java_schema import (
    CORE_TABLES,
    DBMATE_VERSIONS,
    FEATURES,
    NEWEST_DBMATE_VERSION,
    VISA_MARKER_TABLES,
    Feature,
)
from visa_platform.db.adopt.plan_model import Problem, VersionGuess


def not_visa(snapshot: Snapshot) -> Problem | None:
    """A problem when the schema is empty, not VISA's, or lacks tables every VISA has."""
    tables = set(snapshot.tables)
    if not tables:
        return Problem(
            None,
            f"schema {snapshot.schema} has no tables: nothing to adopt (a new database is "
            "set up with `visa db upgrade`)",
        )
    if not tables & set(VISA_MARKER_TABLES):
        found = ", ".join(sorted(tables)[:10]) + (" ..." if len(tables) > 10 else "")
        return Problem(
            None,
            f"schema {snapshot.schema} is not a VISA database (none of the tables "
            f"{', '.join(VISA_MARKER_TABLES)}; found {found})",
        )
    missing = [t for t in CORE_TABLES if t not in tables]
    if missing:
        return Problem(
            None,
            f"schema {snapshot.schema} is not a complete VISA database: tables "
            f"{', '.join(missing)} are missing",
        )
    return None


def dbmate_problems(snapshot: Snapshot, keep_unknown: bool) -> list[Problem]:
    """Refuse migrations newer than we know (a future Java VISA), and unknown ones."""
    problems = []
    unknown = [v for v in snapshot.dbmate_versions or [] if v not in DBMATE_VERSIONS]
    future = [v for v in unknown if v > NEWEST_DBMATE_VERSION]
    if future:
        problems.append(
            Problem(
                "schema_migrations",
                f"unknown future version: dbmate migration(s) {', '.join(future)} are newer than "
                f"the newest this version of visa-platform knows ({NEWEST_DBMATE_VERSION}); "
                "upgrade visa-platform first",
            )
        )
    older = [v for v in unknown if v not in future]
    if older and not keep_unknown:
        problems.append(
            Problem(
                "schema_migrations",
                f"unknown dbmate migration(s) {', '.join(older)}: this version of visa-platform "
                "does not know what they changed. Pass --keep-unknown to adopt anyway",
            )
        )
    return problems


def _present(snapshot: Snapshot, feature: Feature) -> bool:
    if feature.dbmate is not None:
        return feature.dbmate in (snapshot.dbmate_versions or [])
    table = snapshot.tables.get(feature.table)
    if table is None:
        return False
    return feature.column is None or feature.column in table.columns


def guess_version(snapshot: Snapshot) -> VersionGuess:
    present = [f for f in FEATURES if _present(snapshot, f)]
    if present:
        newest = max(f.release for f in present)
        release = ".".join(str(p) for p in newest) + " or later"
    else:
        newest = (0, 0, 0)
        release = "2.0 (the 2022 dump, before its dbmate migrations)"
    missing = [f for f in FEATURES if f.release <= newest and f not in present]
    return VersionGuess(
        release=release,
        present=tuple(f"{f.label} ({f.release_name})" for f in present),
        missing=tuple(f"{f.label} ({f.release_name})" for f in missing),
        dbmate_versions=tuple(snapshot.dbmate_versions or ()),
    )
