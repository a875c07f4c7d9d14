"""Registers the ``sql`` ETL source type."""

from __future__ import annotations

from visa_etl_sql.source import SqlSource
from visa_platform.plugin import hookimpl
from visa_platform.plugin.registry import Register


@hookimpl
def visa_register_etl_sources(register: Register) -> None:
    register.add(
        "sql", SqlSource, description="one query per kind on a database (any SQLAlchemy URL)"
    )
