"""The seam for the server's job scheduler: the periodic run that ``[schedule]`` describes.

The server's scheduler (``visa_platform.scheduler.jobs.configured_etl`` and ``etl_job``) reads
the ETL configuration (``VISA_ETL_CONFIG``), asks :func:`scheduled_job` whether and how often to
run, and calls :func:`scheduled_run` under its leader lease, so that one replica runs it. The
run itself also holds a PostgreSQL advisory lock, so two runs never overlap even without the
lease.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.etl.config import EtlConfig, read_config
from visa_platform.etl.report import RunReport
from visa_platform.etl.runner import run_source
from visa_platform.plugin import PluginHost

CONFIG_ENV = "VISA_ETL_CONFIG"


@dataclass(frozen=True)
class ScheduledEtl:
    """A periodic ETL run: how often, and with what configuration."""

    every: timedelta
    config: EtlConfig


def scheduled_job(config: EtlConfig | None = None) -> ScheduledEtl | None:
    """The run to schedule, or ``None`` when ``[schedule]`` is off or there is no configuration."""
    if config is None:
        path = os.environ.get(CONFIG_ENV)
        if not path:
            return None
        config = read_config(path)
    if not config.schedule.enabled:
        return None
    return ScheduledEtl(every=config.schedule.every, config=config)


async def scheduled_run(
    engine: AsyncEngine, host: PluginHost, job: ScheduledEtl, *, default_quota: int = 2
) -> RunReport:
    """One scheduled run (committed; rejections are in the report and the log)."""
    schedule = job.config.schedule
    return await run_source(
        engine,
        host,
        job.config,
        source_name=schedule.source,
        prune=schedule.prune,
        default_quota=default_quota,
    )
