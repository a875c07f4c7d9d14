"""The ETL configuration file (TOML): which sources exist, how runs behave, the schedule.

::

    source = "export"                 # the source run when --source is not given
    timezone = "Europe/Paris"         # zone of timestamps without an offset (default: the host's)

    [sources.export]
    type = "files"                    # an ETL source type id (visa plugins list shows them)
    directory = "/srv/visa-etl"       # the rest of the table is the source's own options

See docs/etl.md for every key. Relative paths in source options are relative to the file.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from visa_platform.etl.kinds import FUNCTION_ROLES
from visa_platform.etl.loader import LoadOptions


class EtlConfigError(Exception):
    """The ETL configuration is unusable; the message names the file and the key."""


class ScheduleConfig(BaseModel):
    """``[schedule]``: a periodic run, executed by the server's scheduler on one replica."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    every: timedelta = timedelta(hours=24)
    source: str | None = None
    prune: bool = False

    @field_validator("every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str) and value[-1:] in "smhd" and value[:-1].strip().isdigit():
            factor = {"s": 1, "m": 60, "h": 3600, "d": 86400}[value[-1]]
            return timedelta(seconds=int(value[:-1]) * factor)
        return value


class SourceConfig(BaseModel):
    """``[sources.NAME]``: ``type`` picks the registered source type; the rest is its options."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1)

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class EtlConfig(BaseModel):
    """The whole file. ``path`` is where it was read from (``None``: built-in defaults)."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = None
    timezone: str | None = None
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    max_reported_rejections: int = Field(default=20, ge=1, le=10_000)
    abort_on_rejection: bool = False
    prune: bool = False
    managed_roles: tuple[str, ...] = FUNCTION_ROLES
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {value!r} (use a name such as Europe/Paris)"
                ) from None
        return value

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    def zone(self) -> tzinfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None

    def load_options(
        self, *, dry_run: bool = False, prune: bool | None = None, default_quota: int = 2
    ) -> LoadOptions:
        return LoadOptions(
            dry_run=dry_run,
            prune=self.prune if prune is None else prune,
            abort_on_rejection=self.abort_on_rejection,
            batch_size=self.batch_size,
            max_reported=self.max_reported_rejections,
            zone=self.zone(),
            default_quota=default_quota,
            managed_roles=self.managed_roles,
        )


def read_config(path: Path | str | None) -> EtlConfig:
    """Read the ETL configuration from ``path`` (``None``: no file, defaults only)."""
    if path is None:
        return EtlConfig()
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise EtlConfigError(f"ETL configuration {path} does not exist") from None
    except OSError as exc:
        raise EtlConfigError(f"cannot read ETL configuration {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EtlConfigError(f"ETL configuration {path} is not valid TOML: {exc}") from None
    try:
        config = EtlConfig.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{path}: {'.'.join(str(p) for p in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        ]
        raise EtlConfigError("\n".join(problems)) from None
    return config.model_copy(update={"path": path.resolve()})
