"""``visa etl run`` as an operator runs it: a real process on a migrated database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.etl.conftest import facility
from tests.etl.test_files_source import write_jsonl
from visa_platform.testing.databases import TestDatabase

VISA = [sys.executable, "-m", "visa_platform.cli.main"]


def visa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VISA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def environment(db: TestDatabase, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(
        VISA_DATABASE_URL=db.url, VISA_DATABASE_SCHEMA=db.schema, VISA_DATA_DIR=str(tmp_path)
    )
    env.update(extra)
    return env


def test_run_reports_rejections_dry_runs_and_commits(
    test_database: TestDatabase, tmp_path: Path
) -> None:
    data = facility()
    data["user"].append({"id": "1009", "last_name": "Bad", "email": "x" * 120})
    write_jsonl(tmp_path / "export", data)
    (tmp_path / "etl.toml").write_text(
        'source = "export"\ntimezone = "UTC"\n\n'
        '[sources.export]\ntype = "files"\ndirectory = "export"\n'
    )
    env = environment(test_database, tmp_path, VISA_ETL_CONFIG=str(tmp_path / "etl.toml"))
    assert visa("db", "upgrade", env=env).returncode == 0

    dry = visa("etl", "run", "--dry-run", env=env)
    assert dry.returncode == 1, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].split() == ["kind", "received", "created", "updated", "unchanged", "rejected"]
    assert lines[3].split() == ["user", "5", "4", "0", "0", "1"]
    assert "user rejected:" in dry.stdout
    assert "  user.jsonl:5: email is longer than 100 characters (120)" in dry.stdout
    assert lines[-1].startswith("source export: dry run: nothing written")

    data["user"].pop()
    write_jsonl(tmp_path / "export", data)
    first = visa("etl", "run", "--json", env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["committed"] is True
    assert {k["kind"]: k["created"] for k in report["kinds"]}["user"] == 4

    again = visa("etl", "run", "--source", "export", "--prune", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[3].split() == ["user", "4", "0", "0", "4", "0", "0", "0"]


def test_configuration_errors_exit_2_and_name_the_problem(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env["VISA_DATA_DIR"] = str(tmp_path)
    (tmp_path / "etl.toml").write_text('timezone = "Mars/Olympus"\n[sources.a]\n')
    result = visa("etl", "run", "-c", str(tmp_path / "etl.toml"), env=env)
    assert result.returncode == 2
    assert "timezone: Value error, unknown time zone 'Mars/Olympus'" in result.stderr
    assert "sources.a.type: Field required" in result.stderr
    (tmp_path / "etl.toml").write_text('[sources.a]\ntype = "ftp"\n')
    result = visa("etl", "run", "-c", str(tmp_path / "etl.toml"), env=env)
    assert result.returncode == 2
    assert "type 'ftp', which no installed plugin provides" in result.stderr
    sources = visa("etl", "sources", "-c", str(tmp_path / "etl.toml"), env=env)
    assert sources.returncode == 0
    assert "  files " in sources.stdout and "  sql " in sources.stdout
    assert "  a                    type ftp" in sources.stdout


def test_progress_bars_count_records_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    from visa_platform.cli.etl_cmd import BarProgress
    from visa_platform.etl import Kind

    bar = BarProgress()
    bar.begin(Kind.USER, 3)
    bar.advance(2)
    bar.advance(2)  # more than the size hint: the bar stops at its end
    bar.end()
    bar.begin(Kind.EMPLOYER, None)
    bar.advance(5)
    bar.end()
    err = capsys.readouterr().err
    assert err.startswith("user") and "employer              5 records" in err
