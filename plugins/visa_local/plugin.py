"""Entry point module: registers the ``local`` compute backend type."""

from __future__ import annotations

from visa_local.backend import LocalBackend
from visa_platform.plugin import Register, hookimpl


@hookimpl
def visa_register_compute_backends(register: Register) -> None:
    register.add(
        "local",
        LocalBackend.from_config,
        description="virtual desktops (TigerVNC X servers) on the server's own host",
    )
