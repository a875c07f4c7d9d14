"""contrib/visa-example-site: a separately packaged site plugin works through entry points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from visa_platform.app import create_app
from visa_platform.plugin import PluginHost
from visa_platform.plugin.types import SecurityGroupQuery
from visa_platform.testing.plugins import PluginSite

PROJECT = Path(__file__).resolve().parents[2] / "contrib" / "visa-example-site"


def query(roles: set[str]) -> SecurityGroupQuery:
    return SecurityGroupQuery(
        instance_id=1,
        instance_uid="a1b2c3d4",
        owner_id="1001",
        owner_roles=frozenset(roles),
        flavour_id=None,
        cloud_id=None,
    )


async def test_example_site_loads_and_answers(
    plugin_site: PluginSite, settings: Any, db_engine: Any, monkeypatch: Any
) -> None:
    assert plugin_site.install_project(PROJECT) == "visa-example-site"
    host = PluginHost()
    host.load_entry_points()
    info = {p.name: p for p in host.plugins()}["example_site"]
    assert (info.status, info.distribution, info.version) == (
        "loaded",
        "visa-example-site",
        "0.1.0",
    )
    assert await host.instance_security_groups(query({"STAFF"}), None) == ["example-staff-ssh"]  # type: ignore[arg-type]
    assert await host.instance_security_groups(query(set()), None) == []  # type: ignore[arg-type]

    monkeypatch.setenv("EXAMPLE_SITE_MOTD", "Beamtime starts at 8")
    app = create_app(settings, plugins=host)
    async with app.test_app() as running:
        response = await running.test_client().get("/api/example-site/motd")
        assert await response.get_json() == {"data": {"message": "Beamtime starts at 8"}}


def test_example_site_command(plugin_site: PluginSite, tmp_path: Path) -> None:
    plugin_site.install_project(PROJECT)
    result = subprocess.run(
        [sys.executable, "-m", "visa_platform.cli.main", "example-site", "backends"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(plugin_site.root),
            "VISA_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # the platform's own compute backends are plugins too, listed like any other
    assert {"openstack", "web"} <= set(result.stdout.split())
