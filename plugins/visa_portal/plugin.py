"""Registers the portal page's routes (``/`` and ``/portal/...``)."""

from __future__ import annotations

from typing import Any

from visa_platform.plugin import RouteRegister, hookimpl
from visa_portal.routes import blueprint, cancel_install


@hookimpl
def visa_register_routes(register: RouteRegister) -> None:
    register.add(blueprint)


@hookimpl
async def visa_shutdown(app: Any) -> None:
    await cancel_install()
