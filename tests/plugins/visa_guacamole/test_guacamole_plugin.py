"""The guacamole plugin is found through its entry point and contributes its protocol and route."""

from __future__ import annotations

from pathlib import Path

from visa_guacamole.protocol import GuacamoleProtocol
from visa_platform.config import load_settings
from visa_platform.plugin import PluginHost


def test_the_entry_point_registers_the_protocol_and_the_route(tmp_path: Path) -> None:
    host = PluginHost()
    host.load_entry_points(allow=["guacamole"])
    (info,) = [p for p in host.plugins() if p.status != "disabled"]
    assert (info.name, info.status, info.errors) == ("guacamole", "loaded", [])
    assert host.desktop_protocols.ids() == ["guacamole"]
    protocol = host.desktop_protocols.create("guacamole", load_settings(data_dir=tmp_path))
    assert isinstance(protocol, GuacamoleProtocol)
    assert (protocol.name, protocol.port_protocol, protocol.default_port) == (
        "guacamole",
        "GUACD",
        4822,
    )
    (route,) = host.routes()
    assert (route.blueprint.name, route.url_prefix) == ("visa_guacamole", "/api")
