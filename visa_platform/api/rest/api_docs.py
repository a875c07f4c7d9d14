"""The OpenAPI description's extras and its docs page, served without internet access.

``VisaOpenAPIProvider`` adds what quart-schema cannot say by itself: JPEG responses and the error
bodies every operation may answer. ``GET /api/docs`` is Swagger UI with its JavaScript and CSS
served from the ``swagger-ui-py`` package (no CDN); a Content-Security-Policy keeps the browser
from loading anything from elsewhere.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from quart import Blueprint, Response, url_for
from quart_schema import hide
from quart_schema.openapi import OpenAPIProvider
from quart_schema.typing import Model
from werkzeug.routing import Rule

from visa_platform.api.rest.schemas import ErrorBody, Jpeg, ViolationReport
from visa_platform.domain.errors import NotFound

blueprint = Blueprint("api_docs", __name__)

DOCS_PATH = "/docs"
"""Under ``/api``: the page is ``/api/docs``, its assets ``/api/docs/assets/<name>``."""

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
"""The files of the ``swagger_ui`` package's ``static`` folder that the page uses."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>VISA platform API</title>
  <link rel="icon" type="image/png" href="{favicon}">
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""

INIT = """window.ui = SwaggerUIBundle({{
  url: {openapi},
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null
}});
"""


class VisaOpenAPIProvider(OpenAPIProvider):
    """quart-schema's provider with JPEG bodies and the REST errors as ``default`` response.

    Only the REST blueprints (``visa_platform.api.rest.BLUEPRINTS``) answer errors with the
    envelope; other routes (GraphQL, plugins) document their own.
    """

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        from visa_platform.api.rest import BLUEPRINTS

        paths, components = super().build_paths(rule)
        if rule.endpoint.split(".", 1)[0] not in {b.name for b in BLUEPRINTS}:
            return paths, components
        error_object, error_components = _error_response()
        components.update(error_components)
        for operations in paths.values():
            for operation in operations.values():
                responses = dict(operation["responses"])
                responses["default"] = error_object
                operation["responses"] = responses
        return paths, components

    def build_response_object(
        self, model: type[Model], headers_model: type[Model] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if model is Jpeg:
            schema = {"type": "string", "format": "binary"}
            return {
                "description": "a JPEG image",
                "content": {"image/jpeg": {"schema": schema}},
            }, {}
        return super().build_response_object(model, headers_model)


@functools.cache
def _error_response() -> tuple[dict[str, Any], dict[str, Any]]:
    """``{"data": null, "errors": [...]}`` or, for invalid input, the violation report."""
    from pydantic.json_schema import models_json_schema

    refs, definitions = models_json_schema(
        [(ErrorBody, "serialization"), (ViolationReport, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    schema = {
        "anyOf": [refs[(ErrorBody, "serialization")], refs[(ViolationReport, "serialization")]]
    }
    response = {
        "description": "an error: the envelope with a message, or a violation report (400)",
        "content": {"application/json": {"schema": schema}},
    }
    return response, dict(definitions.get("$defs", {}))


@functools.cache
def _asset(name: str) -> bytes:
    return resources.files("swagger_ui").joinpath("static", name).read_bytes()


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get(DOCS_PATH)
@hide
async def docs_page() -> Response:
    """Swagger UI for ``/api/openapi.json``."""

    def asset(name: str) -> str:
        return url_for("api_docs.docs_asset", name=name)

    page = PAGE.format(
        favicon=asset("favicon-32x32.png"),
        css=asset("swagger-ui.css"),
        bundle=asset("swagger-ui-bundle.js"),
        init=url_for("api_docs.docs_init"),
    )
    return _secured(Response(page, content_type="text/html; charset=utf-8"))


@blueprint.get(f"{DOCS_PATH}/init.js")
@hide
async def docs_init() -> Response:
    """Starts Swagger UI on our description (a file, so that the page needs no inline script)."""
    import json

    script = INIT.format(openapi=json.dumps(url_for("openapi")))
    return _secured(Response(script, content_type="text/javascript; charset=utf-8"))


@blueprint.get(f"{DOCS_PATH}/assets/<name>")
@hide
async def docs_asset(name: str) -> Response:
    """Swagger UI's files, from the installed ``swagger-ui-py`` package."""
    content_type = ASSETS.get(name)
    if content_type is None:
        raise NotFound("no such asset")
    response = Response(_asset(name), content_type=content_type)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return _secured(response)
