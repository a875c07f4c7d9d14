"""Picking a source from the configuration and the plugin registry, and running it."""

from __future__ import annotations

import inspect
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.etl.config import EtlConfig, EtlConfigError
from visa_platform.etl.loader import load
from visa_platform.etl.progress import Progress
from visa_platform.etl.report import RunReport
from visa_platform.etl.source import EtlSource, SourceContext, SourceError
from visa_platform.plugin import PluginHost


def resolve_source_name(config: EtlConfig, requested: str | None) -> str:
    """The name of the source to run: ``requested``, else the configured default or only one."""
    if requested:
        return requested
    if config.source:
        return config.source
    if len(config.sources) == 1:
        return next(iter(config.sources))
    where = f" in {config.path}" if config.path else ""
    configured = ", ".join(sorted(config.sources)) or "none"
    raise EtlConfigError(
        f"which source? give --source NAME or set `source = ...`{where} (configured: {configured})"
    )


def build_source(host: PluginHost, config: EtlConfig, name: str) -> EtlSource:
    """Build the source called ``name``: a configured source, or a source type with no options."""
    registry = host.etl_sources
    if name in config.sources:
        entry = config.sources[name]
        type_id, options = entry.type, entry.options()
    elif name in registry:
        type_id, options = name, {}
    else:
        configured = ", ".join(sorted(config.sources)) or "none"
        types = ", ".join(registry.ids()) or "none"
        raise EtlConfigError(
            f"unknown ETL source {name!r} (configured sources: {configured}; "
            f"installed source types: {types})"
        )
    if type_id not in registry:
        types = ", ".join(registry.ids()) or "none"
        raise EtlConfigError(
            f"source {name!r} has type {type_id!r}, which no installed plugin provides "
            f"(installed source types: {types})"
        )
    entry_point = registry.get(type_id)
    context = SourceContext(name=name, options=options, base_dir=config.base_dir)
    try:
        source = entry_point.factory(context)
    except (SourceError, EtlConfigError):
        raise
    except Exception as exc:
        raise SourceError(
            f"source {name!r} (type {type_id!r} from plugin {entry_point.plugin!r}) "
            f"could not be set up: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(source, EtlSource):
        raise SourceError(
            f"source type {type_id!r} from plugin {entry_point.plugin!r} returned "
            f"{type(source).__name__}, which has no kinds()/records() (see docs/etl.md)"
        )
    return source


async def close_source(source: Any) -> None:
    """Await the source's ``aclose()`` (or call ``close()``) when it has one."""
    closer = getattr(source, "aclose", None) or getattr(source, "close", None)
    if closer is not None:
        result = closer()
        if inspect.isawaitable(result):
            await result


async def run_source(
    engine: AsyncEngine,
    host: PluginHost,
    config: EtlConfig,
    *,
    source_name: str | None = None,
    dry_run: bool = False,
    prune: bool | None = None,
    default_quota: int = 2,
    progress: Progress | None = None,
) -> RunReport:
    """Build the chosen source and load it; the source is closed afterwards."""
    name = resolve_source_name(config, source_name)
    source = build_source(host, config, name)
    try:
        options = config.load_options(dry_run=dry_run, prune=prune, default_quota=default_quota)
        return await load(engine, source, name=name, options=options, progress=progress)
    finally:
        await close_source(source)
