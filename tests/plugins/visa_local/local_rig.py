"""The local backend's test rig: configuration and the TigerVNC marker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from visa_platform.compute import BackendConfig

needs_tigervnc = pytest.mark.skipif(
    shutil.which("Xtigervnc") is None, reason="tigervnc-standalone-server is not installed"
)


def local_config(state: Path, **parameters: str) -> BackendConfig:
    return BackendConfig(
        cloud_id=None,
        name="local",
        type="local",
        parameters={"stateDirectory": str(state), "network": "127.77.0.0/24", **parameters},
        server_name_prefix="T",
    )
