"""The webx plugin is found through its entry point and contributes its protocol and route."""

from __future__ import annotations

from pathlib import Path

from visa_platform.config import load_settings
from visa_platform.plugin import PluginHost
from visa_webx.protocol import WebXProtocol


def test_the_entry_point_registers_the_protocol_and_the_route(tmp_path: Path) -> None:
    host = PluginHost()
    host.load_entry_points(allow=["webx"])
    (info,) = [p for p in host.plugins() if p.status != "disabled"]
    assert (info.name, info.status, info.errors) == ("webx", "loaded", [])
    assert host.desktop_protocols.ids() == ["webx"]
    protocol = host.desktop_protocols.create("webx", load_settings(data_dir=tmp_path))
    assert isinstance(protocol, WebXProtocol)
    assert (protocol.name, protocol.port_protocol, protocol.default_port) == ("webx", "WEBX", 5555)
    assert protocol.timeout == 15.0 and protocol.ping_interval == 15.0
    (route,) = host.routes()
    assert (route.blueprint.name, route.url_prefix) == ("visa_webx", "/api")
