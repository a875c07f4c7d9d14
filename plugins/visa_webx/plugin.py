"""Registers the ``webx`` desktop protocol and its websocket route."""

from __future__ import annotations

from visa_platform.plugin import Register, RouteRegister, hookimpl
from visa_webx.protocol import WebXProtocol
from visa_webx.routes import blueprint


@hookimpl
def visa_register_desktop_protocols(register: Register) -> None:
    register.add(
        "webx", WebXProtocol, description="WebX: the WebX Router and engines on the instance"
    )


@hookimpl
def visa_register_routes(register: RouteRegister) -> None:
    register.add(blueprint, url_prefix="/api")
