"""A small client for the admin GraphQL endpoint in tests."""

from __future__ import annotations

from typing import Any


class GraphQLClient:
    """POSTs operations to /api/graphql and returns (status, JSON body)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def post(
        self,
        headers: dict[str, str] | None,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> tuple[int, Any]:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        response = await self.client.post("/api/graphql", headers=headers or {}, json=body)
        return response.status_code, await response.get_json()

    async def data(
        self, headers: dict[str, str], query: str, variables: dict[str, Any] | None = None
    ) -> Any:
        """The ``data`` of a successful operation (fails the test on any error)."""
        status, body = await self.post(headers, query, variables)
        assert status == 200, body
        assert "errors" not in body or not body["errors"], body
        return body["data"]
