"""Fixtures of the admin GraphQL tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql_client import GraphQLClient
from graphql_world import World, build_world, settings_overrides
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.config import load_settings
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    return load_settings(**settings_overrides(test_database, tmp_path))


@pytest.fixture
async def world(db_session: AsyncSession) -> World:
    return await build_world(db_session)


@pytest.fixture
def admin(accounts: StaticAccounts) -> dict[str, str]:
    return bearer(accounts.add("9001", roles=["ADMIN"], first_name="Root", last_name="Admin"))


@pytest.fixture
def staff(accounts: StaticAccounts) -> dict[str, str]:
    return bearer(accounts.add("9002", roles=["STAFF"]))


@pytest.fixture
def gql(client: Any) -> GraphQLClient:
    return GraphQLClient(client)
