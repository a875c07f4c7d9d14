"""GET /api/openapi.json describes every REST endpoint the application serves."""

from __future__ import annotations

import re
from typing import Any


async def test_every_rest_route_is_documented(app: Any, client: Any) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    document = await response.get_json()
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = set()
    for rule in app.app.url_map.iter_rules():
        if rule.websocket or not rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        if rule.rule == "/api/openapi.json":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    assert served - documented == set()
    assert len(served) >= 40
    creation = document["paths"]["/api/account/instances"]["post"]
    schema = creation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["planId"]
