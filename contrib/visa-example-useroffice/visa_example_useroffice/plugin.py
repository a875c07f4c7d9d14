"""Registers the ``example-useroffice`` ETL source type."""

from __future__ import annotations

from visa_example_useroffice.source import HnsExportSource
from visa_platform.plugin import hookimpl
from visa_platform.plugin.registry import Register


@hookimpl
def visa_register_etl_sources(register: Register) -> None:
    register.add(
        "example-useroffice",
        HnsExportSource,
        description="the JSON export of the Hypothetical Neutron Source user office",
    )
