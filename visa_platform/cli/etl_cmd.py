"""``visa etl``: load facility metadata (users, proposals, experiments ...) from a source."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from visa_platform.cli.errors import fail, handle_errors

if TYPE_CHECKING:
    from visa_platform.etl import Kind, RunReport

CONFIG_ENV = "VISA_ETL_CONFIG"


@click.group()
def etl() -> None:
    """Load facility metadata (docs/etl.md)."""


config_option = click.option(
    "--etl-config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help=f"ETL configuration file (TOML) [{CONFIG_ENV}].",
)


@etl.command("run")
@config_option
@click.option("--source", "-s", "source_name", help="Configured source name or source type id.")
@click.option("--dry-run", is_flag=True, help="Do everything, report, and write nothing.")
@click.option(
    "--prune/--no-prune",
    default=None,
    help="Remove records absent from the source (unless VISA still uses them) [config: prune].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--progress/--no-progress", default=None, help="Progress bars [default: on a terminal]."
)
@handle_errors
def run(
    config_path: Path | None,
    source_name: str | None,
    dry_run: bool,
    prune: bool | None,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Load a source into the database; exit status 1 when any record was rejected."""
    from visa_platform.cli.context import settings
    from visa_platform.cli.database import open_engine, prepare
    from visa_platform.etl import EtlConfigError, EtlError, SourceError, load, read_config
    from visa_platform.etl.runner import build_source, close_source, resolve_source_name
    from visa_platform.plugin import PluginHost
    from visa_platform.plugin.registry import RegistryError

    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        # Configuration and source problems surface before the database is touched.
        config = read_config(config_path)
        name = resolve_source_name(config, source_name)
        source = build_source(PluginHost.from_settings(settings()), config, name)
        options = config.load_options(
            dry_run=dry_run, prune=prune, default_quota=settings().instance_user_default_quota
        )

        async def go() -> RunReport:
            try:
                await prepare(settings(), migrate=False)  # schema at head, roles seeded
                async with open_engine(settings()) as engine:
                    bar = BarProgress() if show_progress else None
                    return await load(engine, source, name=name, options=options, progress=bar)
            finally:
                await close_source(source)

        report = asyncio.run(go())
    except (EtlConfigError, RegistryError) as exc:
        fail(f"ETL configuration error:\n{exc}", 2)
    except (SourceError, EtlError) as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(summary(report))
    if report.rejected or report.aborted:
        sys.exit(1)


@etl.command("sources")
@config_option
@handle_errors
def sources(config_path: Path | None) -> None:
    """List installed source types and the sources of the configuration."""
    from visa_platform.cli.context import settings
    from visa_platform.etl import EtlConfigError, read_config
    from visa_platform.plugin import PluginHost

    try:
        config = read_config(config_path)
    except EtlConfigError as exc:
        fail(f"ETL configuration error:\n{exc}", 2)
    registry = PluginHost.from_settings(settings()).etl_sources
    click.echo("source types:")
    for entry in registry:
        click.echo(f"  {entry.type_id:<20} {entry.description}  [{entry.plugin}]")
    if not len(registry):
        click.echo("  none installed")
    if config.sources:
        click.echo(f"configured sources ({config.path}):")
        for name, source in sorted(config.sources.items()):
            mark = " (default)" if name == config.source else ""
            click.echo(f"  {name:<20} type {source.type}{mark}")


class BarProgress:
    """One click progress bar per kind on standard error (a counter when the size is unknown)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._left = 0
        self._label = ""
        self._count = 0

    def begin(self, kind: Kind, total: int | None) -> None:
        self._label, self._count = f"{kind.value:<21}", 0
        if total:
            self._left = total
            self._bar = click.progressbar(
                length=total, label=self._label, file=sys.stderr, show_pos=True, show_eta=True
            )
            self._bar.__enter__()

    def advance(self, count: int) -> None:
        self._count += count
        if self._bar is not None:
            step = min(count, self._left)
            self._left -= step
            self._bar.update(step)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.update(self._left)
            self._bar.__exit__(None, None, None)
            self._bar = None
        else:
            click.echo(f"{self._label} {self._count} records", err=True)


def summary(report: RunReport) -> str:
    """The summary table, then the first rejection reasons and notes of each kind."""
    columns = ["received", "created", "updated", "unchanged", "rejected"]
    if report.prune:
        columns += ["removed", "kept"]
    header = f"{'kind':<21}" + "".join(f"{c:>11}" for c in columns)
    lines = [header, "-" * len(header)]
    for kind in report.kinds:
        if not kind.supplied and not (kind.created or kind.updated):
            lines.append(f"{kind.kind.value:<21}" + f"{'(not in source)':>22}")
            continue
        lines.append(f"{kind.kind.value:<21}" + "".join(f"{getattr(kind, c):>11}" for c in columns))
    for kind in report.kinds:
        if kind.rejections:
            more = kind.rejected - len(kind.rejections)
            suffix = f" (first {len(kind.rejections)} of {kind.rejected})" if more > 0 else ""
            lines.append("")
            lines.append(f"{kind.kind.value} rejected{suffix}:")
            lines.extend(f"  {r}" for r in kind.rejections)
    notes = [(k.kind.value, n) for k in report.kinds for n in k.notes]
    if notes:
        lines.append("")
        lines.extend(f"note: {kind}: {note}" for kind, note in notes)
    lines.append("")
    if report.aborted:
        outcome = f"nothing written: {report.aborted}"
    elif report.dry_run:
        outcome = "dry run: nothing written"
    else:
        outcome = "committed"
    lines.append(f"source {report.source}: {outcome} ({report.seconds:.1f} s)")
    return "\n".join(lines)
