"""Entry point module: registers the ``web`` compute backend type."""

from __future__ import annotations

from visa_platform.plugin import Register, hookimpl
from visa_webcloud.backend import WebCloudBackend


@hookimpl
def visa_register_compute_backends(register: Register) -> None:
    register.add(
        "web",
        WebCloudBackend.from_config,
        description="VISA web cloud provider HTTP contract (e.g. the Proxmox provider)",
    )
