"""``/api/graphql``: the admin GraphQL endpoint (POST and GET) and its SDL.

Order of checks, each answered as GraphQL-over-HTTP clients expect:

1. a malformed request (no query, bad JSON, variables not an object, a mutation over GET):
   HTTP 400 with ``{"errors": [...]}``;
2. an anonymous caller or one without ADMIN: HTTP 200, ``{"data": null, "errors": [...]}`` with
   ``extensions.code`` UNAUTHENTICATED / FORBIDDEN, nothing executed;
3. a query over a limit (depth, cost, introspection off): HTTP 200 with a coded error;
4. execution; errors in resolvers are coded, unexpected ones masked (``errors.py``).
"""

from __future__ import annotations

import json
from typing import Any

from quart import Blueprint, Response, current_app, jsonify, request
from quart_schema import document_querystring, document_request, document_response
from tartiflette.language.ast import OperationDefinitionNode
from tartiflette.language.parsers.libgraphqlparser import parse_to_document

from visa_platform.api.auth import roles_allowed
from visa_platform.api.context import db, principal, state
from visa_platform.api.graphql import limits
from visa_platform.api.graphql.context import GraphQLContext
from visa_platform.api.graphql.engine import AdminEngine, build_engine
from visa_platform.api.graphql.errors import graphql_error
from visa_platform.api.graphql.sdl import load_sdl
from visa_platform.api.graphql.wire import (
    GraphQLQueryString,
    GraphQLRequest,
    GraphQLResponse,
    SchemaText,
)
from visa_platform.domain.principal import PrincipalKind

blueprint = Blueprint("graphql", __name__)

EXTENSION_KEY = "visa_graphql"
ADMIN = "ADMIN"


@blueprint.before_app_serving
async def _start() -> None:
    current_app.extensions[EXTENSION_KEY] = await build_engine()


@blueprint.after_app_serving
async def _stop() -> None:
    found: AdminEngine | None = current_app.extensions.pop(EXTENSION_KEY, None)
    if found is not None:
        found.drop()


def _engine() -> AdminEngine:
    found: AdminEngine | None = current_app.extensions.get(EXTENSION_KEY)
    if found is None:
        raise RuntimeError("the GraphQL engine is built when the application starts serving")
    return found


class MalformedRequest(Exception):
    pass


def _bad_request(message: str) -> Response:
    response = jsonify({"errors": [graphql_error(message, "BAD_REQUEST")]})
    response.status_code = 400
    return response


def _refused(message: str, code: str) -> Response:
    return jsonify({"data": None, "errors": [graphql_error(message, code)]})


def _variables(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise MalformedRequest("variables are not valid JSON") from None
    if not isinstance(value, dict):
        raise MalformedRequest("variables must be a JSON object")
    return value


async def _post_request() -> tuple[Any, dict[str, Any] | None, str | None]:
    content_type = (request.mimetype or "").lower()
    data = await request.get_data(as_text=True)
    raw = data if isinstance(data, str) else data.decode("utf-8", "replace")
    if content_type == "application/graphql":
        return raw, None, request.args.get("operationName")
    if not raw.strip():
        raise MalformedRequest("a JSON body with a query is required")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedRequest(f"malformed JSON body: {exc.msg}") from None
    if not isinstance(body, dict):
        raise MalformedRequest("the body must be a JSON object with a query")
    query = body.get("query")
    name = body.get("operationName")
    if name is not None and not isinstance(name, str):
        raise MalformedRequest("operationName must be a string")
    return query, _variables(body.get("variables")), name


def _get_request() -> tuple[Any, dict[str, Any] | None, str | None]:
    return (
        request.args.get("query"),
        _variables(request.args.get("variables")),
        request.args.get("operationName") or None,
    )


def _check_access() -> Response | None:
    caller = principal()
    if caller is None:
        return _refused("authentication required", "UNAUTHENTICATED")
    if caller.kind is not PrincipalKind.USER or not caller.has_role(ADMIN):
        return _refused("requires the role ADMIN", "FORBIDDEN")
    return None


def _operation_type(document: Any, name: str | None) -> str | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == name]
    return operations[0].operation_type if len(operations) == 1 else None


async def _handle(method: str) -> Response:
    try:
        query, variables, operation_name = (
            await _post_request() if method == "POST" else _get_request()
        )
        if not isinstance(query, str) or not query.strip():
            raise MalformedRequest("a non-empty query string is required")
    except MalformedRequest as exc:
        return _bad_request(str(exc))
    refused = _check_access()
    if refused is not None:
        return refused

    engine = _engine()
    settings = state().settings
    try:
        document = parse_to_document(query, engine.schema)
    except Exception:  # syntax errors: the engine reports them in its own words
        document = None
    if document is not None:
        if method == "GET" and _operation_type(document, operation_name) == "mutation":
            return _bad_request("mutations must be sent with POST")
        shape = limits.shape_of(document, operation_name, variables)
        if shape is not None:
            try:
                limits.check(
                    shape,
                    max_depth=settings.graphql_max_depth,
                    max_cost=settings.graphql_max_cost,
                    introspection=settings.graphql_introspection_enabled,
                )
            except limits.LimitExceeded as exc:
                return _refused(exc.message, exc.code)

    caller = principal()
    assert caller is not None
    context = GraphQLContext(session=db(), principal=caller, runtime=state())
    result = await engine.engine.execute(
        query, operation_name=operation_name, context=context, variables=variables
    )
    return jsonify(result)


@blueprint.post("/graphql")
@document_request(GraphQLRequest)
@document_response(GraphQLResponse)
async def graphql_post() -> Response:
    """The admin GraphQL API (ADMIN only)."""
    return await _handle("POST")


@blueprint.get("/graphql")
@document_querystring(GraphQLQueryString)
@document_response(GraphQLResponse)
async def graphql_get() -> Response:
    """The admin GraphQL API over GET (queries only)."""
    return await _handle("GET")


@blueprint.get("/graphql/schema.graphql")
@document_response(SchemaText)
@roles_allowed(ADMIN)
async def graphql_schema() -> Response:
    """The SDL (as the original's schema endpoint); 404 when introspection is disabled."""
    if not state().settings.graphql_introspection_enabled:
        return Response("introspection is disabled", status=404, mimetype="text/plain")
    return Response(load_sdl(), mimetype="text/plain")
