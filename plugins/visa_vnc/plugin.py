"""Registers the ``vnc`` desktop protocol and its websocket route."""

from __future__ import annotations

from visa_platform.plugin import Register, RouteRegister, hookimpl
from visa_vnc.protocol import VncProtocol
from visa_vnc.routes import blueprint


@hookimpl
def visa_register_desktop_protocols(register: Register) -> None:
    register.add(
        "vnc", VncProtocol, description="VNC (RFB) for noVNC: a VNC server on the instance"
    )


@hookimpl
def visa_register_routes(register: RouteRegister) -> None:
    register.add(blueprint, url_prefix="/api")
