"""No N+1: nested fields of the admin instances page load in batches."""

from __future__ import annotations

from typing import Any

from graphql_client import GraphQLClient
from graphql_world import add_instances
from sqlalchemy import event

from visa_platform.runtime import runtime

INSTANCES_PAGE = """
query ($p: Pagination!) {
  instances(pagination: $p, orderBy: {name: "id"}) {
    data {
      id name state cloudId
      owner { id fullName affiliation { name } activeUserRoles { role { name } } groups { name } }
      members { id role user { id fullName } }
      experiments { id instrument { name } proposal { identifier } }
      plan {
        id image { id name protocols { name } cloudClient { id name } }
        flavour { id name roleLifetimes { lifetimeMinutes } }
      }
      vdiProtocol { name }
      attributes { name value }
      sessions { id user { id } instanceSession { id instance { id } } }
      activeSessions { id }
      cloudClient { id name }
      deviceAllocations { unitCount }
    }
  }
}
"""


async def test_nested_fields_load_in_batches(
    gql: GraphQLClient, admin: Any, world: Any, app: Any, db_session: Any
) -> None:
    """The SQL statement count of the instances page does not grow with its rows."""
    engine = runtime(app.app).engine
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    variables = {"p": {"offset": 0, "limit": 50}}
    await gql.data(admin, "{ countImages }")  # the admin's first login is not part of it
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        few = await gql.data(admin, INSTANCES_PAGE, variables)
        with_few = len(statements)
        await add_instances(db_session, world, 12, start=100)
        statements.clear()
        many = await gql.data(admin, INSTANCES_PAGE, variables)
        with_many = len(statements)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert len(few["instances"]["data"]) == 3 and len(many["instances"]["data"]) == 15
    assert with_many == with_few, (with_few, with_many)
    assert with_few < 30, "\n".join(s.split("\n")[0][:120] for s in statements)
