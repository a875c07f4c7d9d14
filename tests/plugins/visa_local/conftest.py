"""Fixtures of the local backend's tests: a backend on a private state directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from local_rig import local_config

from visa_local.backend import LocalBackend


@pytest.fixture
async def local_backend(tmp_path: Path) -> AsyncIterator[LocalBackend]:
    backend = LocalBackend(local_config(tmp_path / "state"))
    try:
        yield backend
    finally:
        for instance in await backend.list_instances():  # no process outlives its test
            await backend.delete_instance(instance.id)
        await backend.close()
