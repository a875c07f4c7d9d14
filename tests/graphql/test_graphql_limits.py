"""Hardening: depth and cost limits, introspection switch; the CLI; the schema is fully wired."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from graphql_client import GraphQLClient
from graphql_world import settings_overrides

from visa_platform.api.graphql.resolvers import RESOLVERS
from visa_platform.api.graphql.sdl import load_sdl
from visa_platform.config import load_settings
from visa_platform.testing.databases import TestDatabase


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    return load_settings(
        **settings_overrides(
            test_database,
            tmp_path,
            graphql_max_depth=6,
            graphql_max_cost=300,
            graphql_introspection_enabled=False,
        )
    )


async def test_too_deep_queries_are_refused(gql: GraphQLClient, admin: Any, world: Any) -> None:
    ok = f"{{ instance(id: {world.instances[0].id}) {{ owner {{ affiliation {{ name }} }} }} }}"
    assert (await gql.data(admin, ok))["instance"]["owner"]["affiliation"]["name"] == "ILL"
    deep = """
      query Deep { instances(pagination: {offset: 0, limit: 1}) { ...page } }
      fragment page on InstanceConnection {
        data { owner { instances { plan { image { name } } } } }
      }
    """
    status, body = await gql.post(admin, deep)
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert body["errors"][0]["message"] == "query depth 7 exceeds the maximum depth 6"


async def test_costly_queries_are_refused(gql: GraphQLClient, admin: Any, world: Any) -> None:
    query = """query ($p: Pagination!) { instances(pagination: $p) {
                 data { id name state owner { id fullName } members { id } } } }"""
    small = await gql.data(admin, query, {"p": {"offset": 0, "limit": 10}})
    assert len(small["instances"]["data"]) == 3
    _status, body = await gql.post(admin, query, {"p": {"offset": 0, "limit": 50}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "exceeds the maximum cost 300" in body["errors"][0]["message"]


async def test_introspection_can_be_switched_off(
    gql: GraphQLClient, admin: Any, client: Any
) -> None:
    for query in ('{ __type(name: "InstanceState") { name } }', "{ __schema { types { name } } }"):
        status, body = await gql.post(admin, query)
        assert status == 200 and body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert (await gql.data(admin, "{ __typename countImages }"))["__typename"] == "Query"
    response = await client.get("/api/graphql/schema.graphql", headers=admin)
    assert response.status_code == 404


def test_every_root_field_has_a_resolver() -> None:
    import re

    sdl = load_sdl()
    for root in ("Query", "Mutation"):
        body = re.search(rf"type {root} \{{(.*?)\n\}}", sdl, re.S)
        assert body is not None
        fields = re.findall(r"^  (\w+)(?:\(|:)", body.group(1), re.M)
        missing = [f for f in fields if f"{root}.{f}" not in RESOLVERS]
        assert missing == [], root
        assert len(fields) > 20


def test_visa_graphql_schema_prints_the_sdl() -> None:
    from visa_platform.cli.main import cli

    result = CliRunner().invoke(cli, ["graphql", "schema"])
    assert result.exit_code == 0, result.output
    assert result.output == load_sdl()
    assert "enum InstanceState {" in result.output
