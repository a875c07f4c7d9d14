"""A fake of VISA's accounts service (``GET /api/authenticate`` with ``x-access-token``).

Register tokens with :meth:`FakeAccountsService.add`; switch ``status`` to make it fail or
``delay`` to make it slow; ``calls`` counts requests (to check caching).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from quart import Quart, request

from visa_platform.testing.servers import serve_asgi

PATH = "/api/authenticate"


class FakeAccountsService:
    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.calls = 0
        self.status: int | None = None  # force this status for every request
        self.body: Any = None  # force this body (with status 200) for every request
        self.delay = 0.0
        self.url = ""

    def add(
        self,
        token: str,
        user_id: str,
        *,
        username: str | None = None,
        first_name: str = "Ada",
        last_name: str = "Lovelace",
        email: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.accounts[token] = {
            "username": username or f"user{user_id}",
            "user": {
                "id": user_id,
                "firstName": first_name,
                "lastName": last_name,
                "email": email,
            },
            "accountParameters": parameters or {},
        }

    def app(self) -> Quart:
        app = Quart("fake_accounts")

        @app.get(PATH)
        async def authenticate() -> Any:
            self.calls += 1
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.status is not None:
                return "forced failure", self.status
            if self.body is not None:
                return self.body
            token = request.headers.get("x-access-token")
            if not token or token not in self.accounts:
                return "Unauthorized", 401
            return self.accounts[token]

        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeAccountsService]:
        async with serve_asgi(self.app()) as base:
            self.url = base + PATH
            yield self
