"""/api/graphql: access (ADMIN only), malformed requests, masked errors, GET, the SDL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql_client import GraphQLClient
from tartiflette.schema.registry import SchemaRegistry

from visa_platform.api.graphql.blueprint import EXTENSION_KEY
from visa_platform.api.graphql.sdl import load_sdl
from visa_platform.testing.accounts import bearer

COUNT = "{ countInstances countImages }"


async def test_an_admin_gets_data(gql: GraphQLClient, admin: Any, world: Any) -> None:
    data = await gql.data(admin, COUNT)
    assert data == {"countInstances": 3, "countImages": 1}


async def test_anonymous_callers_get_an_error_and_no_data(gql: GraphQLClient, world: Any) -> None:
    status, body = await gql.post(None, COUNT)
    assert status == 200
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_non_admins_get_an_error_and_no_data(
    gql: GraphQLClient, staff: Any, world: Any
) -> None:
    status, body = await gql.post(staff, "{ users(pagination: {offset: 0}) { data { email } } }")
    assert status == 200
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "ada@example.org" not in json.dumps(body)


async def test_non_admins_cannot_mutate(gql: GraphQLClient, staff: Any, world: Any) -> None:
    status, body = await gql.post(
        staff, f"mutation {{ deleteInstance(id: {world.instances[0].id}) {{ message }} }}"
    )
    assert (status, body["data"]) == (200, None)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_invalid_tokens_are_refused_before_graphql(client: Any) -> None:
    response = await client.post(
        "/api/graphql", headers=bearer("not-a-token"), json={"query": COUNT}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "a JSON body with a query is required"),
        ("{not json", "malformed JSON body"),
        ("[1, 2]", "the body must be a JSON object"),
        ('{"query": ""}', "a non-empty query string is required"),
        ('{"query": 3}', "a non-empty query string is required"),
        ('{"query": "{ countImages }", "variables": [1]}', "variables must be a JSON object"),
        ('{"query": "{ countImages }", "operationName": 4}', "operationName must be a string"),
    ],
)
async def test_malformed_requests_are_400(client: Any, admin: Any, body: str, message: str) -> None:
    headers = {**admin, "Content-Type": "application/json"}
    response = await client.post("/api/graphql", headers=headers, data=body)
    assert response.status_code == 400
    errors = (await response.get_json())["errors"]
    assert message in errors[0]["message"]
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


async def test_syntax_and_validation_errors_are_graphql_errors(
    gql: GraphQLClient, admin: Any
) -> None:
    status, body = await gql.post(admin, "{ countImages ")
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["message"]
    status, body = await gql.post(admin, "{ nope }")
    assert status == 200 and body["data"] is None
    assert "nope" in body["errors"][0]["message"]


async def test_not_found_has_a_code(gql: GraphQLClient, admin: Any, world: Any) -> None:
    status, body = await gql.post(admin, "{ instance(id: 999999) { id } }")
    assert status == 200
    assert body["data"] == {"instance": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["instance"]


async def test_internal_errors_are_masked(
    gql: GraphQLClient, admin: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from visa_platform.services import admin_catalogue

    async def broken(session: Any) -> int:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(admin_catalogue, "count_images", broken)
    status, body = await gql.post(admin, "{ countImages countFlavours }")
    assert status == 200
    assert body["data"] is None  # countImages is non-null: the error reaches the root
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "secret" not in json.dumps(body)


async def test_bad_variables_are_reported(gql: GraphQLClient, admin: Any) -> None:
    status, body = await gql.post(
        admin, "query ($id: Int!) { instance(id: $id) { id } }", {"id": "abc"}
    )
    assert status == 200
    assert body["data"] is None
    assert "id" in body["errors"][0]["message"]


async def test_get_runs_queries(client: Any, admin: Any, world: Any) -> None:
    response = await client.get(
        "/api/graphql",
        headers=admin,
        query_string={
            "query": "query ($s: InstanceState!) { countInstancesForState(state: $s) }",
            "variables": json.dumps({"s": "ACTIVE"}),
        },
    )
    assert response.status_code == 200
    assert (await response.get_json())["data"] == {"countInstancesForState": 1}


async def test_get_refuses_mutations(client: Any, admin: Any, world: Any) -> None:
    query = f"mutation {{ deleteInstance(id: {world.instances[0].id}) {{ message }} }}"
    response = await client.get("/api/graphql", headers=admin, query_string={"query": query})
    assert response.status_code == 400
    assert "POST" in (await response.get_json())["errors"][0]["message"]


async def test_the_sdl_is_served_to_admins(client: Any, admin: Any, staff: Any) -> None:
    response = await client.get("/api/graphql/schema.graphql", headers=admin)
    assert response.status_code == 200
    assert (await response.get_data(as_text=True)) == load_sdl()
    response = await client.get("/api/graphql/schema.graphql", headers=staff)
    assert response.status_code == 403


async def test_each_app_has_its_own_engine(app: Any, settings: Any) -> None:
    """Several apps in one process keep their resolvers; stopping one frees its schema name."""
    from visa_platform.app import create_app

    first = app.app.extensions[EXTENSION_KEY]
    other = create_app(settings)
    async with other.test_app() as running:
        second = other.extensions[EXTENSION_KEY]
        assert first.schema_name != second.schema_name
        result = await second.engine.execute("{ hypervisorsAvailable }")
        assert result == {"data": {"hypervisorsAvailable": False}}
        assert running is not None
        name = second.schema_name
        assert name in SchemaRegistry._schemas
    assert name not in SchemaRegistry._schemas
    # the first app's engine still has its resolvers
    assert await first.engine.execute("{ hypervisorsAvailable }") == {
        "data": {"hypervisorsAvailable": False}
    }
