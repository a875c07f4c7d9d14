"""The request and response bodies of ``/api/graphql`` as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel


class GraphQLRequest(BaseModel):
    """A GraphQL-over-HTTP request (POST body)."""

    model_config = ConfigDict(populate_by_name=True)

    query: str = Field(description="the GraphQL document")
    variables: dict[str, Any] | None = Field(default=None, description="variable values")
    operation_name: str | None = Field(
        default=None, alias="operationName", description="the operation to run"
    )


class GraphQLQueryString(BaseModel):
    """A GraphQL-over-HTTP request (GET query string); ``variables`` is JSON."""

    model_config = ConfigDict(populate_by_name=True)

    query: str
    variables: str | None = None
    operation_name: str | None = Field(default=None, alias="operationName")


class GraphQLErrorBody(BaseModel):
    message: str
    path: list[str | int] | None = None
    locations: list[dict[str, int]] | None = None
    extensions: dict[str, Any] | None = Field(
        default=None, description="``code`` says what went wrong (see docs/graphql.md)"
    )


class GraphQLResponse(BaseModel):
    """``{"data", "errors"}``; HTTP 200 for every GraphQL error, 400 for a malformed request."""

    data: dict[str, Any] | None = None
    errors: list[GraphQLErrorBody] | None = None


class SchemaText(RootModel[str]):
    """The SDL (served as ``text/plain``)."""
