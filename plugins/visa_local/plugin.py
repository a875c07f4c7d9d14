"""Entry point module: registers the ``local`` compute backend type and seeds its catalogue."""

from __future__ import annotations

from typing import Any

from visa_local.backend import LocalBackend
from visa_local.catalogue import seed_catalogue
from visa_platform.plugin import Register, hookimpl


@hookimpl
def visa_register_compute_backends(register: Register) -> None:
    register.add(
        "local",
        LocalBackend.from_config,
        description="virtual desktops (TigerVNC X servers) on the server's own host",
    )


@hookimpl
async def visa_startup(app: Any) -> None:
    """A fresh install on the ``local`` default cloud gets images, flavours and plans."""
    from visa_platform.runtime import runtime

    state = runtime(app)
    default = state.clouds.default if state.clouds is not None else None
    if default is not None and isinstance(default.backend, LocalBackend) and state.sessions:
        await seed_catalogue(state.sessions, default.backend)
