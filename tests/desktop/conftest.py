"""Fixtures of the desktop tests: an instance on a fake guacd, its people, tickets and events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from desktop_rig import Desk, build_desk

from visa_platform.config import load_settings
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.fake_guacd import FakeGuacd


@pytest.fixture
def policy() -> str:
    """VISA_VDI_OWNER_DISCONNECTION_POLICY; parametrize ``policy`` to change it."""
    return "DISCONNECT_ALL"


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path, policy: str) -> Any:
    return load_settings(
        database_url=test_database.url,
        database_schema=test_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
        scheduler_enabled=False,
        vdi_owner_disconnection_policy=policy,
    )


@pytest.fixture
async def desk(app: Any, fake_guacd: FakeGuacd) -> Desk:
    return await build_desk(app, fake_guacd)
