"""Fixtures of the API tests."""

from __future__ import annotations

import pytest
from instance_fixtures import Facility, build_facility
from sqlalchemy.ext.asyncio import AsyncSession


@pytest.fixture
async def facility(db_session: AsyncSession) -> Facility:
    """Images, flavours, plans, experiments and users for instance tests (see instance_fixtures)."""
    return await build_facility(db_session)
