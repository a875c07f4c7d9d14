"""The time zone the Java server wrote its naive timestamps in.

The JVM wrote ``timestamp without time zone`` values in its local time, so adoption must know
that zone to turn them into instants. The default is the local zone of the machine running the
command (run it on the host the Java server ran on, or say ``--source-timezone``), found the way
the C library finds it: ``TZ``, then ``/etc/timezone``, then the ``/etc/localtime`` link; no
``/etc/localtime`` at all means UTC.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class SourceTimezone:
    name: str
    origin: str
    """Where the name came from (``--source-timezone``, ``TZ``, ``/etc/timezone`` ...)."""


class TimezoneError(ValueError):
    """The source time zone is unknown or cannot be determined."""


def _valid(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_timezone(
    etc: Path = Path("/etc"), environ: dict[str, str] | None = None
) -> SourceTimezone:
    """The IANA name of this machine's local time zone."""
    env = os.environ if environ is None else environ
    tz = env.get("TZ", "").lstrip(":")
    if tz:
        if _valid(tz):
            return SourceTimezone(tz, "the TZ environment variable")
        raise TimezoneError(f"TZ={tz!r} is not a time zone name: pass --source-timezone")
    timezone_file = etc / "timezone"
    if timezone_file.is_file():
        name = timezone_file.read_text().strip()
        if _valid(name):
            return SourceTimezone(name, str(timezone_file))
    localtime = etc / "localtime"
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            if _valid(name):
                return SourceTimezone(name, f"{localtime} -> {target}")
    if not localtime.exists():
        return SourceTimezone("UTC", f"no {localtime} (the C library's default, UTC)")
    raise TimezoneError(
        "cannot tell the name of this machine's time zone: pass --source-timezone "
        "(the zone the Java server ran in, e.g. Europe/Paris)"
    )


def resolve(name: str | None) -> SourceTimezone:
    """``--source-timezone`` if given, else the local zone."""
    if name:
        if not _valid(name):
            raise TimezoneError(f"--source-timezone {name!r} is not a time zone name")
        return SourceTimezone(name, "--source-timezone")
    return local_timezone()


def known_to_database(conn: Connection, name: str) -> bool:
    """Whether PostgreSQL (which does the conversion) knows the zone."""
    found = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :name)"),
        {"name": name},
    ).scalar()
    return bool(found)
