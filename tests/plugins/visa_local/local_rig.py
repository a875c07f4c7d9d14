"""The local backend's test rig: configuration and the TigerVNC marker."""

from __future__ import annotations

from pathlib import Path

from visa_platform.compute import BackendConfig
from visa_platform.testing.system import needs

needs_tigervnc = needs(
    "Xtigervnc",
    "tigervncpasswd",
    "xauth",
    "xterm",
    "xdotool",
    "xdpyinfo",
    packages="tigervnc-standalone-server tigervnc-tools xauth xterm xdotool x11-utils",
)


def local_config(state: Path, **parameters: str) -> BackendConfig:
    return BackendConfig(
        cloud_id=None,
        name="local",
        type="local",
        parameters={"stateDirectory": str(state), "network": "127.77.0.0/24", **parameters},
        server_name_prefix="T",
    )
