"""ETL from files into PostgreSQL: first load, unchanged re-run, 1 % changed (issue 8 targets).

Each run is a real ``visa etl run`` process, so that its time and peak memory (max RSS, from
``wait4``) are the product's. Memory boundedness is shown against a run at a tenth of the size.
Run with ``pytest tests/benchmarks/test_etl_load.py -m bench -s``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from visa_platform.testing.databases import TestDatabase, temporary_database

FULL = {
    "users": 100_000,
    "instruments": 2_000,
    "proposals": 50_000,
    "experiments": 60_000,
    "members": 500_000,
    "employers": 1_000,
}


def write(path: Path, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def generate(directory: Path, scale: float, changed: float = 0.0) -> dict[str, int]:
    """A user office in the reference CSV layout; ``changed`` alters that share of records."""
    n = {k: max(1, int(v * scale)) for k, v in FULL.items()}
    directory.mkdir(parents=True, exist_ok=True)
    every = int(1 / changed) if changed else 0

    def touched(i: int) -> bool:
        return bool(every) and i % every == 0

    write(
        directory / "employer.csv",
        ["id", "name", "town", "country_code"],
        ((i, f"Institute {i}", f"Town {i % 300}", "FR") for i in range(1, n["employers"] + 1)),
    )
    write(
        directory / "user.csv",
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "affiliation_id",
            "instance_quota",
            "activated_at",
        ],
        (
            (
                100_000 + i,
                f"First{i}",
                f"Last{i}",
                f"user{i}@{'new' if touched(i) else 'example'}.org",
                1 + i % n["employers"],
                2,
                "2021-06-01 09:30:00.000000" if i % 3 == 0 else "",
            )
            for i in range(n["users"])
        ),
    )
    write(
        directory / "instrument.csv",
        ["id", "name"],
        ((i, f"INSTR-{i}") for i in range(1, n["instruments"] + 1)),
    )
    write(
        directory / "proposal.csv",
        ["id", "identifier", "title"],
        (
            (i, f"1-{i:06d}", f"Proposal {i}{' (revised)' if touched(i) else ''}")
            for i in range(1, n["proposals"] + 1)
        ),
    )
    write(
        directory / "experiment.csv",
        ["id", "proposal_id", "instrument_id", "start_date", "end_date"],
        (
            (
                f"EXP-{i}",
                1 + i % n["proposals"],
                1 + i % n["instruments"],
                "2024-03-01 08:00:00.000000",
                f"2024-03-0{5 if touched(i) else 4} 08:00:00.000000",
            )
            for i in range(n["experiments"])
        ),
    )

    def members() -> Iterable[tuple[str, int]]:
        per, extra = divmod(n["members"], n["experiments"])
        for e in range(n["experiments"]):
            for k in range(per + (1 if e < extra else 0)):
                shift = 1 if touched(e * 10 + k) else 0  # a different team member
                yield f"EXP-{e}", 100_000 + (e * 7919 + k * 4729 + shift) % n["users"]

    write(directory / "experiment_user.csv", ["experiment_id", "user_id"], members())
    write(
        directory / "staff_user.csv",
        ["user_id"],
        ((100_000 + i,) for i in range(0, n["users"], 100)),
    )
    write(
        directory / "instrument_scientist.csv",
        ["instrument_id", "user_id"],
        ((i, 100_000 + i * 37 % n["users"]) for i in range(1, n["instruments"] + 1)),
    )
    return n


# Runs ``visa`` and reports the process's own peak RSS (KiB on Linux) on stderr at exit.
MEASURED = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "f'\\nMAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
    "runpy.run_module('visa_platform.cli.main', run_name='__main__')\n"
)


def visa(env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of one ``visa`` process."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    peak_kib = int(result.stderr.rsplit("MAXRSS ", 1)[1].split()[0])
    return seconds, peak_kib / 1024, result.stdout


def environment(db: TestDatabase, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(
        VISA_DATABASE_URL=db.url, VISA_DATABASE_SCHEMA=db.schema, VISA_ETL_CONFIG=str(config)
    )
    return env


def load(env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    seconds, rss, out = visa(env, "etl", "run", "--json", "--no-progress")
    return seconds, rss, json.loads(out)


@pytest.mark.bench
async def test_etl_load_figures(tmp_path: Path) -> None:
    full, small, changed = tmp_path / "full", tmp_path / "small", tmp_path / "changed"
    started = time.perf_counter()
    n = generate(full, 1.0)
    generate(small, 0.1)
    generate(changed, 1.0, changed=0.01)
    print(f"\ngenerated CSV files in {time.perf_counter() - started:.1f} s")
    config = tmp_path / "etl.toml"
    config.write_text(
        'source = "export"\ntimezone = "UTC"\n[sources.export]\ntype = "files"\n'
        'directory = "full"\n'
    )

    async with temporary_database("postgresql", tmp_path) as small_db:
        small_config = tmp_path / "small.toml"
        small_config.write_text(config.read_text().replace('"full"', '"small"'))
        env = environment(small_db, small_config)
        visa(env, "db", "upgrade")
        small_s, small_rss, _ = load(env)

    async with temporary_database("postgresql", tmp_path) as db:
        env = environment(db, config)
        visa(env, "db", "upgrade")
        first_s, first_rss, first = load(env)
        created = {k["kind"]: k["created"] for k in first["kinds"]}
        assert created["user"] == n["users"] and created["experiment_user"] == n["members"]
        assert first["kinds"][-1]["rejected"] == 0

        same_s, same_rss, same = load(env)
        assert all(k["created"] == k["updated"] == 0 for k in same["kinds"])

        config.write_text(config.read_text().replace('"full"', '"changed"'))
        changed_s, changed_rss, delta = load(env)
        updated = {k["kind"]: k["updated"] for k in delta["kinds"]}
        assert updated["user"] == n["users"] // 100

    rows = sum(n[k] for k in ("users", "instruments", "proposals", "experiments", "members"))
    print(f"records: {rows:,} (+ employers, roles, instrument scientists)")
    print(f"{'run':<28}{'seconds':>9}{'peak RSS MiB':>14}")
    for label, seconds, rss in (
        ("first load, 10 % size", small_s, small_rss),
        ("first load", first_s, first_rss),
        ("re-run, unchanged", same_s, same_rss),
        ("re-run, 1 % changed", changed_s, changed_rss),
    ):
        print(f"{label:<28}{seconds:>9.1f}{rss:>14.0f}")
    print(f"unchanged / first = {same_s / first_s:.2f} (target < 0.5); first load target < 60 s")
    print(f"peak RSS full / 10 % = {first_rss / small_rss:.2f} (bounded: close to 1)")
    assert first_rss < small_rss * 1.5
