"""Registers the ``files`` ETL source type."""

from __future__ import annotations

from visa_etl_files.source import FilesSource
from visa_platform.plugin import hookimpl
from visa_platform.plugin.registry import Register


@hookimpl
def visa_register_etl_sources(register: Register) -> None:
    register.add(
        "files",
        FilesSource,
        description="a directory of JSON Lines or CSV files, one per kind",
    )
