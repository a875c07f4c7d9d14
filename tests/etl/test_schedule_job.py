"""The scheduled ETL run as a job of the server's scheduler, under its lease."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.etl.conftest import facility, rows
from tests.etl.test_files_source import write_jsonl
from visa_platform.compute import CloudClients
from visa_platform.config import Settings
from visa_platform.db.engine import session_factory
from visa_platform.events.broker import LocalBroker
from visa_platform.plugin import PluginHost
from visa_platform.plugin.registry import Registry
from visa_platform.scheduler import Lease, ManualClock, Scheduler
from visa_platform.scheduler.jobs import build_scheduler, configured_etl, etl_job
from visa_platform.services.instance_actions import EngineContext


def context(engine: AsyncEngine, settings: Settings, clock: ManualClock) -> EngineContext:
    host = PluginHost()
    host.load_entry_points()
    return EngineContext(
        sessions=session_factory(engine),
        clouds=CloudClients(Registry("compute backend")),
        plugins=host,
        broker=LocalBroker(),
        settings=settings,
        clock=clock,
    )


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schedule: str) -> None:
    write_jsonl(tmp_path / "export", facility())
    (tmp_path / "etl.toml").write_text(
        f'[sources.export]\ntype = "files"\ndirectory = "export"\n\n[schedule]\n{schedule}'
    )
    monkeypatch.setenv("VISA_ETL_CONFIG", str(tmp_path / "etl.toml"))


async def test_the_configured_run_is_a_job_run_by_the_lease_holder_only(
    etl_engine: AsyncEngine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(tmp_path, monkeypatch, 'enabled = true\nevery = "6h"\nsource = "export"\n')
    state = SimpleNamespace(engine=etl_engine)
    configured = configured_etl(state)
    assert configured is not None and configured[0] is etl_engine
    clock = ManualClock()
    ctx = context(etl_engine, settings, clock)
    scheduler, _ = build_scheduler(ctx, etl=configured)
    assert "etl" in scheduler.jobs

    # two replicas: only the lease holder runs it, at once, then every 6 hours
    replicas = [
        Scheduler(
            Lease(ctx.sessions, holder=who, ttl=30, clock=clock),
            [etl_job(ctx, *configured)],
            clock=clock,
        )
        for who in ("a", "b")
    ]
    for _ in range(3):
        for replica in replicas:
            await replica.tick()
            await replica.drain()
        clock.advance(3 * 3600)
    assert [r.runs["etl"] for r in replicas] == [2, 0]
    assert await rows(etl_engine, "SELECT count(*) FROM experiment") == [(2,)]
    for replica in replicas:
        await replica.stop()


async def test_no_job_without_a_schedule_and_a_broken_file_is_logged(
    etl_engine: AsyncEngine,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state: Any = SimpleNamespace(engine=etl_engine)
    monkeypatch.delenv("VISA_ETL_CONFIG", raising=False)
    assert configured_etl(state) is None
    scheduler, _ = build_scheduler(context(etl_engine, settings, ManualClock()))
    assert "etl" not in scheduler.jobs
    configure(tmp_path, monkeypatch, "enabled = false\n")
    assert configured_etl(state) is None
    configure(tmp_path, monkeypatch, 'enabled = true\nevery = "often"\n')
    with caplog.at_level(logging.ERROR, logger="visa_platform.scheduler"):
        assert configured_etl(state) is None
    assert "job=etl outcome=not_scheduled" in caplog.text and "schedule.every" in caplog.text
