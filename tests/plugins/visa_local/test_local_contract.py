"""The local backend passes the compute-backend contract suite (real TigerVNC processes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from local_rig import local_config, needs_tigervnc

from visa_local.backend import LocalBackend
from visa_platform.testing.compute_contract import ComputeBackendContract, ContractTarget

pytestmark = needs_tigervnc


class LocalFaults:
    """Servers that fail: the VNC server binary exits at once."""

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.binary = backend.settings.binaries["Xtigervnc"]

    def servers_go_to_error(self, enabled: bool) -> None:
        self.backend.settings.binaries["Xtigervnc"] = "/bin/false" if enabled else self.binary

    def clear(self) -> None:
        self.servers_go_to_error(False)

    def fail_next(self, status: int, count: int = 1) -> None:
        raise AssertionError("no transport faults for a local backend")

    def hang_next(self, count: int = 1) -> None:
        raise AssertionError("no transport faults for a local backend")

    def malformed_next(self, count: int = 1) -> None:
        raise AssertionError("no transport faults for a local backend")


class TestLocalBackend(ComputeBackendContract):
    @pytest.fixture
    async def contract_target(self, tmp_path: Path) -> AsyncIterator[ContractTarget]:
        backend = LocalBackend(local_config(tmp_path / "state"))
        yield ContractTarget(
            backend=backend,
            image_id="xterm",
            flavour_id="small",
            security_groups=(),
            faults=LocalFaults(backend),
            remote=False,
            poll_timeout=20,
        )
        for instance in await backend.list_instances():
            await backend.delete_instance(instance.id)
        await backend.close()
