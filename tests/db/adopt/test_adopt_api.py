"""The server starts on an adopted database and serves its rows through the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from java_visa_schema import SOURCE_TIMEZONE
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.app import create_app
from visa_platform.config import load_settings
from visa_platform.db import adopt
from visa_platform.db.engine import session_factory
from visa_platform.db.models import Protocol, Role
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase

BuildJava = Callable[[str], Awaitable[AsyncEngine]]


async def test_the_api_serves_an_adopted_database(
    java_database: BuildJava, pg_database: TestDatabase, tmp_path: Path
) -> None:
    engine = await java_database("3.8")
    await adopt.adopt(engine, source_timezone=SOURCE_TIMEZONE)
    settings = load_settings(
        database_url=pg_database.url,
        database_schema=pg_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
    )
    accounts = StaticAccounts(settings)
    token = accounts.add("1001", first_name="Jane", last_name="Doe")

    app = create_app(settings)
    async with app.test_app() as running:
        client = running.test_client()
        assert (await client.get("/api/health")).status_code == 200
        account = (await (await client.get("/api/account", headers=bearer(token))).get_json())[
            "data"
        ]
        quotas = (
            await (await client.get("/api/account/quotas", headers=bearer(token))).get_json()
        )["data"]

    assert [role["name"] for role in account["activeUserRoles"]] == ["ADMIN", "STAFF"]
    assert account["affiliation"]["name"] == "Institut Laue-Langevin"
    # instance 1 is the only one of 1001's that is not deleted; the quota came from the ETL
    assert quotas == {"maxInstances": 5, "totalInstances": 1, "availableInstances": 4}
    async with session_factory(engine)() as session:  # start-up seeded nothing twice
        assert await session.scalar(select(func.count()).select_from(Role)) == 8
        assert await session.scalar(select(func.count()).select_from(Protocol)) == 6
