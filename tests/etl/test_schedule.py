"""The scheduler seam: ``[schedule]`` read from the ETL configuration and one scheduled run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.etl.conftest import counts, facility, rows
from tests.etl.test_files_source import write_jsonl
from visa_platform.etl import EtlConfigError, read_config
from visa_platform.etl.schedule import scheduled_job, scheduled_run
from visa_platform.plugin import PluginHost


def test_no_configuration_or_disabled_schedule_means_no_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISA_ETL_CONFIG", raising=False)
    assert scheduled_job() is None
    (tmp_path / "etl.toml").write_text("[schedule]\nenabled = false\n")
    monkeypatch.setenv("VISA_ETL_CONFIG", str(tmp_path / "etl.toml"))
    assert scheduled_job() is None
    (tmp_path / "etl.toml").write_text('[schedule]\nenabled = true\nevery = "often"\n')
    with pytest.raises(EtlConfigError, match=r"etl\.toml: schedule\.every"):
        scheduled_job()


async def test_a_scheduled_run_loads_the_configured_source(
    etl_engine: AsyncEngine, tmp_path: Path
) -> None:
    write_jsonl(tmp_path / "export", facility())
    (tmp_path / "etl.toml").write_text(
        '[sources.export]\ntype = "files"\ndirectory = "export"\n\n'
        '[schedule]\nenabled = true\nevery = "6h"\nsource = "export"\n'
    )
    job = scheduled_job(read_config(tmp_path / "etl.toml"))
    assert job is not None and job.every == timedelta(hours=6)
    host = PluginHost()
    host.load_entry_points()
    report = await scheduled_run(etl_engine, host, job)
    assert report.committed and counts(report, "user") == (4, 0, 0, 0)
    assert await rows(etl_engine, "SELECT count(*) FROM experiment") == [(2,)]
