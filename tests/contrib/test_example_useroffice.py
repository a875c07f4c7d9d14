"""contrib/visa-example-useroffice: a separately packaged ETL source, discovered and run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.db.engine import session_factory
from visa_platform.db.seed import ensure_fixtures
from visa_platform.etl import EtlConfig, run_source
from visa_platform.plugin import PluginHost
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.plugins import PluginSite

PROJECT = Path(__file__).resolve().parents[2] / "contrib" / "visa-example-useroffice"


async def test_the_host_discovers_and_runs_the_user_office_source(
    plugin_site: PluginSite, db_engine: AsyncEngine
) -> None:
    assert plugin_site.install_project(PROJECT) == "visa-example-useroffice"
    host = PluginHost()
    host.load_entry_points()
    info = {p.name: p for p in host.plugins()}["example_useroffice"]
    assert (info.status, info.distribution, info.version) == (
        "loaded",
        "visa-example-useroffice",
        "0.1.0",
    )
    assert host.etl_sources.get("example-useroffice").plugin == "example_useroffice"

    await ensure_fixtures(session_factory(db_engine))
    report = await run_source(db_engine, host, EtlConfig(), source_name="example-useroffice")
    assert report.committed and report.rejected == 0
    assert [(k.kind.value, k.created) for k in report.kinds] == [
        ("employer", 2),
        ("user", 3),
        ("instrument", 2),
        ("proposal", 2),
        ("experiment", 2),
        ("experiment_user", 3),
        ("instrument_scientist", 1),
        ("user_role", 2),
    ]
    async with db_engine.connect() as conn:
        roles = (
            await conn.execute(
                text(
                    "SELECT ur.user_id, r.name FROM user_role ur JOIN role r ON r.id = ur.role_id"
                    " ORDER BY r.name"
                )
            )
        ).all()
        quota = await conn.scalar(text("SELECT instance_quota FROM users WHERE id = '5001'"))
    assert [tuple(r) for r in roles] == [("5001", "INSTRUMENT_SCIENTIST"), ("5001", "STAFF")]
    assert quota == 4


def test_visa_etl_run_uses_the_installed_plugin(
    plugin_site: PluginSite, test_database: TestDatabase, tmp_path: Path
) -> None:
    plugin_site.install_project(PROJECT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(
        PYTHONPATH=str(plugin_site.root),
        VISA_DATA_DIR=str(tmp_path),
        VISA_DATABASE_URL=test_database.url,
        VISA_DATABASE_SCHEMA=test_database.schema,
    )
    command = [sys.executable, "-m", "visa_platform.cli.main"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [*command, "etl", "run", "--source", "example-useroffice"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[3].split() == ["user", "3", "3", "0", "0", "0"]
    assert "source example-useroffice: committed" in result.stdout
