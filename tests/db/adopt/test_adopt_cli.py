"""`visa db adopt`, run as an operator would: check, adopt, current, adopt again, refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from adopt_rig import fingerprint
from java_visa_schema import SOURCE_TIMEZONE
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.migrate import head_revision
from visa_platform.testing.databases import TestDatabase

BuildJava = Callable[[str], Awaitable[AsyncEngine]]


def visa(db: TestDatabase, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(
        VISA_DATABASE_URL=db.url,
        VISA_DATABASE_SCHEMA=db.schema,
        VISA_DATA_DIR=str(tmp_path),
        TZ=SOURCE_TIMEZONE,
    )
    return subprocess.run(
        [sys.executable, "-m", "visa_platform.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
async def test_check_then_adopt_then_upgrade_takes_over(
    java_database: BuildJava, pg_database: TestDatabase, tmp_path: Path
) -> None:
    engine = await java_database("3.8")
    before = await fingerprint(engine)

    checked = visa(pg_database, tmp_path, "db", "adopt", "--check")
    assert checked.returncode == 0, checked.stderr
    assert "Looks like: Java VISA 3.8.2 or later" in checked.stdout
    assert (
        f"Source time zone: {SOURCE_TIMEZONE} (from the TZ environment variable)" in checked.stdout
    )
    assert "Adoption would make" in checked.stdout
    assert await fingerprint(engine) == before

    adopted = visa(pg_database, tmp_path, "db", "adopt")
    assert adopted.returncode == 0, adopted.stderr
    assert "Adoption made" in adopted.stdout

    current = visa(pg_database, tmp_path, "db", "current")
    assert current.stdout.strip() == f"{head_revision()} (head)"
    again = visa(pg_database, tmp_path, "db", "adopt")
    assert again.returncode == 0 and "Already adopted" in again.stdout
    upgrade = visa(pg_database, tmp_path, "db", "upgrade")
    assert upgrade.returncode == 0 and f"already at {head_revision()}" in upgrade.stdout


@pytest.mark.slow
async def test_refusals_exit_non_zero_with_the_reasons(
    engine: AsyncEngine, pg_database: TestDatabase, tmp_path: Path
) -> None:
    refused = visa(pg_database, tmp_path, "db", "adopt", "--check")
    assert refused.returncode == 1
    assert "has no tables: nothing to adopt" in refused.stdout
    assert refused.stderr.strip() == (
        "visa: adoption would be refused (problems listed above); nothing was changed"
    )

    sqlite = TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "visa")
    result = visa(sqlite, tmp_path, "db", "adopt")
    assert result.returncode == 1
    assert (
        "adoption needs PostgreSQL (the Java VISA server's database), not sqlite" in result.stderr
    )

    result = visa(pg_database, tmp_path, "db", "adopt", "--source-timezone", "Nowhere/Land")
    assert result.returncode == 1
    assert "--source-timezone 'Nowhere/Land' is not a time zone name" in result.stderr
