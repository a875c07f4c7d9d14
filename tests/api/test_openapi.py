"""GET /api/openapi.json describes every REST endpoint; /api/docs shows it without internet."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from visa_platform.api.rest import BLUEPRINTS
from visa_platform.api.rest.api_docs import ASSETS

DOCS_ENDPOINTS = {"api_docs.docs_page", "api_docs.docs_init", "api_docs.docs_asset"}
EXTERNAL_URL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


def _served(app: Any, *, rest_only: bool = False) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route under /api (websockets and docs aside); with
    ``rest_only`` only those of the REST blueprints (not GraphQL's nor plugins')."""
    rest = {blueprint.name for blueprint in BLUEPRINTS}
    served = set()
    for rule in app.app.url_map.iter_rules():
        if rule.websocket or not rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        if rule.rule == "/api/openapi.json" or rule.endpoint in DOCS_ENDPOINTS:
            continue
        if rest_only and rule.endpoint.split(".", 1)[0] not in rest:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    return served


async def _document(client: Any) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = await response.get_json()
    return document


async def test_every_rest_route_is_documented(app: Any, client: Any) -> None:
    document = await _document(client)
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = _served(app)
    assert served - documented == set()
    assert len(served) >= 40
    creation = document["paths"]["/api/account/instances"]["post"]
    schema = creation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["planId"]


async def test_every_rest_route_has_a_response_schema(app: Any, client: Any) -> None:
    document = await _document(client)
    schemas = document["components"]["schemas"]
    missing = []
    for method, path in sorted(_served(app)):
        responses = document["paths"][path][method.lower()]["responses"]
        success = {code: r for code, r in responses.items() if str(code).startswith("2")}
        if not success or any(not r["content"] for r in success.values()):
            missing.append(f"{method} {path}")
    assert missing == []
    rest = _served(app, rest_only=True)
    assert len(rest) >= 50
    for method, path in rest:  # the REST error envelope (GraphQL documents its own errors)
        responses = document["paths"][path][method.lower()]["responses"]
        assert "default" in responses, f"{method} {path} documents no error response"

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        return schemas[ref.rsplit("/", 1)[1]] if ref else schema

    # the envelope, every key required (nulls are emitted), camelCase as on the wire
    listing = document["paths"]["/api/account/instances"]["get"]["responses"]["200"]
    envelope = resolve(listing["content"]["application/json"]["schema"])
    assert envelope["required"] == ["data"]
    instance = resolve(envelope["properties"]["data"]["items"])
    assert {"uid", "publicAccessRole", "lifetimeMinutes", "membership"} <= set(instance["required"])
    assert set(instance["required"]) == set(instance["properties"])
    paged = document["paths"]["/api/account/experiments"]["get"]["responses"]["200"]
    assert {"data", "_metadata", "errors"} <= set(
        resolve(paged["content"]["application/json"]["schema"])["required"]
    )
    thumbnail = document["paths"]["/api/account/instances/{uid}/thumbnail"]
    assert "image/jpeg" in thumbnail["get"]["responses"]["200"]["content"]
    assert "multipart/form-data" in thumbnail["post"]["requestBody"]["content"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value]


async def test_docs_page_loads_everything_from_the_server(client: Any) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert page.content_type.startswith("text/html")
    html = await page.get_data(as_text=True)
    assert EXTERNAL_URL.search(html) is None
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    parser = _Links()
    parser.feed(html)
    assert len(parser.links) == 4  # favicon, css, bundle, init
    for link in parser.links:
        assert link.startswith("/api/docs/"), link
        asset = await client.get(link)
        assert asset.status_code == 200, link
        assert len(await asset.get_data()) > 0
    init = await (await client.get("/api/docs/init.js")).get_data(as_text=True)
    assert '"/api/openapi.json"' in init
    assert "validatorUrl: null" in init  # Swagger UI would otherwise call validator.swagger.io
    assert EXTERNAL_URL.search(init) is None
    css = await (await client.get("/api/docs/assets/swagger-ui.css")).get_data(as_text=True)
    assert re.search(r"url\(\s*['\"]?(?:https?:)?//", css) is None
    assert set(ASSETS) == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}


async def test_unknown_docs_asset_is_404(client: Any) -> None:
    response = await client.get("/api/docs/assets/..%2Fcore.py")
    assert response.status_code == 404
    assert (await client.get("/api/docs/assets/swagger-editor.js")).status_code == 404
