"""A cloud client changed through one replica is rebuilt (or dropped) by the others (§5.2)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from visa_platform.app import create_app
from visa_platform.config import load_settings
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.fake_openstack import FakeOpenStack
from visa_platform.testing.redis_server import fresh_channel, needs_redis, redis_url
from visa_platform.testing.waits import eventually

pytestmark = needs_redis()

FIELDS = "id name"


async def graphql(app: Any, admin: dict[str, str], query: str, variables: Any) -> Any:
    response = await app.test_client().post(
        "/api/graphql", headers=admin, json={"query": query, "variables": variables}
    )
    body = await response.get_json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


async def test_a_cloud_changed_on_one_replica_is_rebuilt_on_the_other(
    test_database: TestDatabase, tmp_path: Path, db_engine: Any, fake_openstack: FakeOpenStack
) -> None:
    settings = load_settings(
        database_url=test_database.url,
        database_schema=test_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
        scheduler_enabled=False,
        default_cloud_provider_type="null",
        vdi_redis_enabled=True,
        vdi_redis_url=redis_url(),
        vdi_redis_channel=fresh_channel(),
    )
    admin = bearer(StaticAccounts(settings).add("9001", roles=["ADMIN"], first_name="Root"))
    given = fake_openstack.cloud_client_input()
    async with create_app(settings).test_app() as a, create_app(settings).test_app() as b:
        clouds_a, clouds_b = runtime(a.app).clouds, runtime(b.app).clouds
        assert clouds_a is not None and clouds_b is not None
        create = "mutation ($input: CloudClientInput!) { createCloudClient(input: $input) { id } }"
        cloud_id = (await graphql(a, admin, create, {"input": given}))["createCloudClient"]["id"]
        assert clouds_a.get(cloud_id) is not None  # at once where it was changed
        await eventually(lambda: clouds_b.get(cloud_id) is not None)
        built_on_a = clouds_a.get(cloud_id)
        before = clouds_b.get(cloud_id)
        update = """mutation ($id: Int!, $input: CloudClientInput!) {
            updateCloudClient(id: $id, input: $input) { name } }"""
        await graphql(a, admin, update, {"id": cloud_id, "input": {**given, "name": "Renamed"}})
        await eventually(lambda: getattr(clouds_b.get(cloud_id), "name", None) == "Renamed")
        assert clouds_b.get(cloud_id) is not before  # rebuilt from the database
        # the replica that made the change does not rebuild it a second time
        assert clouds_a.get(cloud_id) is not built_on_a
        rebuilt_on_a = clouds_a.get(cloud_id)
        await asyncio.sleep(0.3)
        assert clouds_a.get(cloud_id) is rebuilt_on_a
        # deleted on b this time: gone from a
        await graphql(
            b, admin, "mutation ($id: Int!) { deleteCloudClient(id: $id) }", {"id": cloud_id}
        )
        assert clouds_b.get(cloud_id) is None
        await eventually(lambda: clouds_a.get(cloud_id) is None)
