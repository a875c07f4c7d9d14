"""A fake OIDC issuer: discovery document and JWKS over HTTP, and tokens signed with its keys.

``issue(claims)`` signs a token with the current key; ``rotate()`` makes a new current key (the
old one leaves the JWKS unless ``keep_old``). ``jwks_calls`` counts JWKS fetches.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from quart import Quart

from visa_platform.testing.servers import serve_asgi


class FakeOidcIssuer:
    def __init__(self) -> None:
        self.issuer = ""
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.jwks_calls = 0
        self.rotate()

    def rotate(self, keep_old: bool = False) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        entry = (uuid.uuid4().hex[:12], key)
        self.keys = [entry, *self.keys] if keep_old else [entry]

    def issue(self, claims: dict[str, Any], *, lifetime: int = 300, **header: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "iat": now, "exp": now + lifetime, **claims}
        kid, key = self.keys[0]
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid, **header})

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, key in self.keys:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            out.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": out}

    def app(self) -> Quart:
        app = Quart("fake_oidc")

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> Any:
            return {"issuer": self.issuer, "jwks_uri": self.issuer + "/jwks"}

        @app.get("/jwks")
        async def keys() -> Any:
            self.jwks_calls += 1
            return self.jwks()

        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeOidcIssuer]:
        async with serve_asgi(self.app()) as base:
            self.issuer = base
            yield self
