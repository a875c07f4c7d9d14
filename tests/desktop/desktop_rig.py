"""A desktop test rig: an instance whose guacd is the fake, people with roles, tickets, events.

People: 1001 Ada Lovelace (OWNER), 1002 Alan Turing (USER member), 1003 Grace Hopper (GUEST
member), 1004 Sam Support (IT_SUPPORT, not a member), 1005 Nora Nobody (nobody).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from quart.testing.connections import WebsocketDisconnectError
from sqlalchemy import select, update

from visa_platform.db.models import (
    Instance,
    InstanceAuthenticationToken,
    InstanceSession,
    InstanceSessionMember,
    Role,
    UserRole,
)
from visa_platform.db.types import utcnow
from visa_platform.desktop.service import DesktopService, desktop_service
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.events.broker import Event, Subscriber
from visa_platform.runtime import runtime
from visa_platform.testing.desktops import add_desktop_instance
from visa_platform.testing.fake_guacd import FakeGuacd, InstructionReader

OWNER, USER, GUEST, SUPPORT, NOBODY = "1001", "1002", "1003", "1004", "1005"
PEOPLE = {
    OWNER: ("Ada", "Lovelace"),
    USER: ("Alan", "Turing"),
    GUEST: ("Grace", "Hopper"),
    SUPPORT: ("Sam", "Support"),
    NOBODY: ("Nora", "Nobody"),
}


def guac(opcode: str, *args: object) -> str:
    return ",".join(f"{len(s)}.{s}" for s in (opcode, *map(str, args))) + ";"


def opcodes(text: str) -> list[str]:
    return [i[0] for i in InstructionReader().feed(text.encode())]


@dataclass
class Events:
    """The gateway events one browser tab receives (through the broker)."""

    subscriber: Subscriber

    async def next(self, wait: float = 5) -> Event:
        return await asyncio.wait_for(self.subscriber.queue.get(), wait)

    async def expect(self, event_type: str, wait: float = 5) -> Event:
        """The next event of this type; others before it are skipped."""
        while True:
            event = await self.next(wait)
            if event.type == event_type:
                return event

    def drain(self) -> list[str]:
        out = []
        while not self.subscriber.queue.empty():
            out.append(self.subscriber.queue.get_nowait().type)
        return out


@dataclass
class Tab:
    """A browser tab's desktop socket."""

    ws: Any
    client_id: str
    received: list[str] = field(default_factory=list)

    async def receive(self, wait: float = 5) -> str:
        data = await asyncio.wait_for(self.ws.receive(), wait)
        assert isinstance(data, str)
        self.received.append(data)
        return data

    async def until(self, opcode: str, wait: float = 5) -> str:
        while True:
            data = await self.receive(wait)
            if opcode in opcodes(data):
                return data

    async def send(self, *instructions: str) -> None:
        await self.ws.send("".join(instructions))

    async def closed(self, wait: float = 5) -> int:
        """Wait for the server to close the socket; its close code."""
        try:
            while True:
                await self.receive(wait)
        except WebsocketDisconnectError as exc:
            return int(exc.args[0])


@dataclass
class Desk:
    app: Any
    guacd: FakeGuacd
    instance_id: int
    instance_uid: str

    @property
    def client(self) -> Any:
        return self.app.test_client()

    @property
    def service(self) -> DesktopService:
        return desktop_service(self.app.app)

    def session(self) -> Any:
        return runtime(self.app.app).session()

    async def ticket(self, user_id: str, public: str | None = None, age: float = 0.0) -> str:
        token = f"ticket-{user_id}-{utcnow().timestamp()}-{age}"
        async with self.session() as db:
            db.add(
                InstanceAuthenticationToken(
                    token=token,
                    instance_id=self.instance_id,
                    user_id=user_id,
                    public_access_token=public,
                    created_at=utcnow() - timedelta(seconds=age),
                )
            )
            await db.commit()
        return token

    @asynccontextmanager
    async def events(self, user_id: str, client_id: str) -> AsyncIterator[Events]:
        broker = runtime(self.app.app).broker
        async with broker.subscribe(user_id, client_id, frozenset()) as subscriber:
            yield Events(subscriber)

    @asynccontextmanager
    async def tab(self, token: str, client_id: str) -> AsyncIterator[Tab]:
        path = f"/api/ws/vdi/{token}/{client_id}/guacamole"
        async with self.client.websocket(path, subprotocols=["guacamole"]) as ws:
            yield Tab(ws, client_id)

    @asynccontextmanager
    async def connected(self, user_id: str, client_id: str) -> AsyncIterator[Tab]:
        """A tab whose relay is up (the tunnel id and the first display frame arrived)."""
        async with self.tab(await self.ticket(user_id), client_id) as tab:
            first = await tab.receive()
            assert first.startswith("0.,36.") and opcodes(first) == [""], first
            await tab.until("sync")
            yield tab

    async def members(self) -> list[tuple[str, str, str, bool]]:
        """(client id, user id, role, active) of every member row, oldest first."""
        async with self.session() as db:
            rows = await db.execute(
                select(
                    InstanceSessionMember.session_id,
                    InstanceSessionMember.user_id,
                    InstanceSessionMember.role,
                    InstanceSessionMember.active,
                ).order_by(InstanceSessionMember.id)
            )
            return [(c, u, r.value, a) for c, u, r, a in rows]

    async def sessions(self) -> list[tuple[str, bool]]:
        """(connection id, current) of every instance_session row, oldest first."""
        async with self.session() as db:
            rows = await db.execute(
                select(InstanceSession.connection_id, InstanceSession.current).order_by(
                    InstanceSession.id
                )
            )
            return [(c, cur) for c, cur in rows]

    async def settle(self) -> None:
        """Wait until this process relays nobody (every leave finished)."""
        for _ in range(500):
            service = self.service
            if not service.members and not service.candidates and not service._leaving:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("desktop clients are still connected")

    async def set_instance(self, **values: Any) -> None:
        async with self.session() as db:
            await db.execute(
                update(Instance).where(Instance.id == self.instance_id).values(**values)
            )
            await db.commit()

    async def grant_role(self, user_id: str, role_name: str) -> None:
        async with self.session() as db:
            role = await db.scalar(select(Role).where(Role.name == role_name))
            assert role is not None
            db.add(UserRole(user_id=user_id, role_id=role.id))
            await db.commit()


def event_data(event: Event) -> Any:
    """What the gateway would send as ``data`` (round-tripped through JSON)."""
    return json.loads(json.dumps(event.data))


async def build_desk(app: Any, guacd: FakeGuacd) -> Desk:
    """The instance (ACTIVE, at 127.0.0.1), its members, and the GUACD port of the fake."""
    async with runtime(app.app).session() as db:
        instance = await add_desktop_instance(
            db,
            protocol="GUACD",
            port=guacd.port,
            people=PEOPLE,
            members={
                OWNER: InstanceMemberRole.OWNER,
                USER: InstanceMemberRole.USER,
                GUEST: InstanceMemberRole.GUEST,
            },
            uid="desk0001",
        )
        it_support = await db.scalar(select(Role).where(Role.name == "IT_SUPPORT"))
        assert it_support is not None
        db.add(UserRole(user_id=SUPPORT, role_id=it_support.id))
        await db.commit()
        return Desk(app, guacd, instance.id, instance.uid)
