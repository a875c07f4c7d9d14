"""Two replicas of the server: two applications sharing one database and one Redis channel,
each served by Hypercorn on 127.0.0.1, and browsers (gateway and desktop sockets) on either."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp
from desktop_rig import Desk, build_desk, opcodes

from visa_platform.app import create_app
from visa_platform.desktop.service import DesktopService, desktop_service
from visa_platform.events.redis_broker import RedisBroker
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.fake_guacd import FakeGuacd
from visa_platform.testing.redis_server import fresh_channel, redis_url
from visa_platform.testing.servers import serve_asgi


@dataclass
class Replica:
    name: str
    app: Any
    base: str
    http: aiohttp.ClientSession

    @property
    def service(self) -> DesktopService:
        return desktop_service(self.app)

    @property
    def ws_base(self) -> str:
        return self.base.replace("http", "ws", 1)


@dataclass
class Gateway:
    """A portal tab's event gateway socket."""

    ws: aiohttp.ClientWebSocketResponse
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def expect(self, event_type: str, wait: float = 5.0) -> Any:
        """The data of the next event of this type (others before it are kept in ``seen``)."""
        while True:
            message = await self.ws.receive(timeout=wait)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            body = json.loads(message.data)
            self.seen.append(body)
            if body["type"] == event_type:
                return body.get("data")

    async def send(self, event_type: str, data: Any) -> None:
        await self.ws.send_str(json.dumps({"type": event_type, "data": data}))


@dataclass
class Screen:
    """A browser tab's desktop socket."""

    ws: aiohttp.ClientWebSocketResponse

    async def receive(self, wait: float = 5.0) -> str:
        message = await self.ws.receive(timeout=wait)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            raise ConnectionResetError(message.data)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        return str(message.data)

    async def until(self, opcode: str, wait: float = 5.0) -> None:
        while opcode not in opcodes(await self.receive(wait)):
            pass

    async def closed(self, wait: float = 5.0) -> int:
        """Wait for the server to close the socket; its close code."""
        while True:
            message = await self.ws.receive(timeout=wait)
            if message.type == aiohttp.WSMsgType.CLOSE:
                return int(message.data)
            if message.type == aiohttp.WSMsgType.CLOSED:
                return int(self.ws.close_code or 0)


@dataclass
class Cluster:
    a: Replica
    b: Replica
    desk: Desk
    accounts: StaticAccounts
    stack: AsyncExitStack

    async def gateway(self, replica: Replica, user_id: str, client_id: str) -> Gateway:
        names = {"1001": ("Ada", "Lovelace"), "1002": ("Alan", "Turing")}
        first, last = names.get(user_id, ("Sam", "Support"))
        token = self.accounts.add(user_id, first_name=first, last_name=last)
        async with replica.http.post(
            f"{replica.base}/api/account/clients/{client_id}/auth/token", headers=bearer(token)
        ) as response:
            assert response.status in (200, 201), await response.text()
            ticket = (await response.json())["data"]["token"]
        ws = await self.stack.enter_async_context(
            replica.http.ws_connect(f"{replica.ws_base}/api/ws/{ticket}/{client_id}/gateway")
        )
        return Gateway(ws)

    async def screen(self, replica: Replica, user_id: str, client_id: str) -> Screen:
        """A desktop socket opened with a fresh ticket (not waiting for anything)."""
        ticket = await self.desk.ticket(user_id)
        ws = await self.stack.enter_async_context(
            replica.http.ws_connect(
                f"{replica.ws_base}/api/ws/vdi/{ticket}/{client_id}/guacamole?",
                protocols=("guacamole",),
            )
        )
        return Screen(ws)

    async def connected(self, replica: Replica, user_id: str, client_id: str) -> Screen:
        """A desktop socket whose relay is up."""
        screen = await self.screen(replica, user_id, client_id)
        await screen.until("sync")
        return screen

    async def settle(self) -> None:
        """Wait until neither replica relays anybody."""
        for _ in range(500):
            if all(
                not s.members and not s.candidates and not s._leaving
                for s in (self.a.service, self.b.service)
            ):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("desktop clients are still connected")


@asynccontextmanager
async def two_replicas(settings: Any, guacd: FakeGuacd) -> AsyncIterator[Cluster]:
    """Replicas ``a`` and ``b`` on the test database and a Redis channel of their own."""
    shared = settings.model_copy(
        update={
            "vdi_redis_enabled": True,
            "vdi_redis_url": redis_url(),
            "vdi_redis_channel": fresh_channel(),
        }
    )
    async with AsyncExitStack() as stack:
        replicas = []
        for name in ("a", "b"):  # one after the other: each seeds the database when it starts
            app = create_app(shared)
            base = await stack.enter_async_context(serve_asgi(app))
            http = await stack.enter_async_context(aiohttp.ClientSession())
            assert isinstance(runtime(app).broker, RedisBroker)
            replicas.append(Replica(name, app, base, http))
        a, b = replicas
        desk = await build_desk(SimpleNamespace(app=a.app, test_client=a.app.test_client), guacd)
        # sockets opened through the cluster close before the servers stop
        inner = await stack.enter_async_context(AsyncExitStack())
        yield Cluster(a, b, desk, StaticAccounts(shared), inner)


__all__ = ["Cluster", "Gateway", "Replica", "Screen", "two_replicas"]
