"""The default source time zone is this machine's, found as the C library finds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from visa_platform.db.adopt.source_timezone import TimezoneError, local_timezone, resolve


def test_tz_variable_wins(tmp_path: Path) -> None:
    (tmp_path / "timezone").write_text("Europe/Berlin\n")
    found = local_timezone(tmp_path, {"TZ": ":Europe/Paris"})
    assert (found.name, found.origin) == ("Europe/Paris", "the TZ environment variable")


def test_etc_timezone_then_localtime_link(tmp_path: Path) -> None:
    (tmp_path / "timezone").write_text("Europe/Berlin\n")
    assert local_timezone(tmp_path, {}).name == "Europe/Berlin"

    (tmp_path / "timezone").unlink()
    zoneinfo = tmp_path / "usr/share/zoneinfo/America"
    zoneinfo.mkdir(parents=True)
    (zoneinfo / "Chicago").write_bytes(b"TZif")
    (tmp_path / "localtime").symlink_to(zoneinfo / "Chicago")
    found = local_timezone(tmp_path, {})
    assert found.name == "America/Chicago"
    assert found.origin.startswith(f"{tmp_path / 'localtime'} -> ")


def test_no_localtime_means_utc(tmp_path: Path) -> None:
    assert local_timezone(tmp_path, {}).name == "UTC"


def test_an_unnamed_zone_or_a_bad_name_asks_for_the_option(tmp_path: Path) -> None:
    (tmp_path / "localtime").write_bytes(b"TZif copied, not linked")
    with pytest.raises(TimezoneError, match="pass --source-timezone"):
        local_timezone(tmp_path, {})
    with pytest.raises(TimezoneError, match="TZ='Not/AZone' is not a time zone name"):
        local_timezone(tmp_path, {"TZ": "Not/AZone"})
    with pytest.raises(TimezoneError, match="--source-timezone 'Mars/Olympus'"):
        resolve("Mars/Olympus")
    assert resolve("Asia/Tokyo").origin == "--source-timezone"
