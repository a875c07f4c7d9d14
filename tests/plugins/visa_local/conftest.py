"""Fixtures of the local backend's tests: a backend on a private state directory."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from visa_local.backend import LocalBackend
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


@pytest.fixture
async def local_backend(tmp_path: Path) -> AsyncIterator[LocalBackend]:
    backend = LocalBackend(local_config(tmp_path / "state"))
    try:
        yield backend
    finally:
        for instance in await backend.list_instances():  # no process outlives its test
            await backend.delete_instance(instance.id)
        await backend.close()
