"""Facility-metadata ETL: the source contract, the loader, and running a configured source.

Sources are plugins (``visa_register_etl_sources``); the loader checks every record and upserts
employers, users, instruments, proposals, experiments, their teams, instrument scientists and roles
into VISA's tables in one transaction. docs/etl.md is the user guide.
"""

from visa_platform.etl.config import EtlConfig, EtlConfigError, read_config
from visa_platform.etl.kinds import LOAD_ORDER, SPECS, Kind
from visa_platform.etl.loader import EtlError, LoadOptions, load
from visa_platform.etl.progress import NoProgress, Progress
from visa_platform.etl.report import KindReport, Rejection, RunReport
from visa_platform.etl.runner import build_source, run_source
from visa_platform.etl.source import EtlSource, Record, SourceContext, SourceError

__all__ = [
    "LOAD_ORDER",
    "SPECS",
    "EtlConfig",
    "EtlConfigError",
    "EtlError",
    "EtlSource",
    "Kind",
    "KindReport",
    "LoadOptions",
    "NoProgress",
    "Progress",
    "Record",
    "Rejection",
    "RunReport",
    "SourceContext",
    "SourceError",
    "build_source",
    "load",
    "read_config",
    "run_source",
]
