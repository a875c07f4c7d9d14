"""Registers the ``guacamole`` desktop protocol and its websocket route."""

from __future__ import annotations

from visa_guacamole.protocol import GuacamoleProtocol
from visa_guacamole.routes import blueprint
from visa_platform.plugin import Register, RouteRegister, hookimpl


@hookimpl
def visa_register_desktop_protocols(register: Register) -> None:
    register.add(
        "guacamole", GuacamoleProtocol, description="Apache Guacamole: guacd on the instance"
    )


@hookimpl
def visa_register_routes(register: RouteRegister) -> None:
    register.add(blueprint, url_prefix="/api")
