"""The ``webx`` socket through a real server (Hypercorn + aiohttp) to the fake WebX Router.

People: 1001 Ada (OWNER), 1002 Alan (USER member), 1003 Grace (GUEST member). Runs on both
databases.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select, update

import visa_platform.desktop.service as desktop_core
from visa_platform.app import create_app
from visa_platform.db.models import (
    Image,
    Instance,
    InstanceAuthenticationToken,
    InstanceSession,
    InstanceSessionMember,
    Plan,
)
from visa_platform.db.types import utcnow
from visa_platform.desktop.service import DesktopService, desktop_service
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.events.broker import Event, Subscriber
from visa_platform.runtime import runtime
from visa_platform.testing.desktops import add_desktop_instance
from visa_platform.testing.fake_webx import FakeWebX, FakeWebXSession
from visa_platform.testing.servers import serve_asgi
from visa_webx import wire
from visa_webx.protocol import WebXProtocol

OWNER, USER, GUEST = "1001", "1002", "1003"
PEOPLE = {OWNER: ("Ada", "Lovelace"), USER: ("Alan", "Turing"), GUEST: ("Grace", "Hopper")}


def instruction(type_: int, body: bytes = b"") -> bytes:
    """A webx-client instruction: a prefix the relay overwrites, the type at byte 20, a body."""
    return b"\xee" * 20 + type_.to_bytes(4, "little") + body


@dataclass
class Tab:
    ws: aiohttp.ClientWebSocketResponse

    async def frame(self, wait: float = 5) -> bytes:
        message = await self.ws.receive(timeout=wait)
        assert message.type is aiohttp.WSMsgType.BINARY, message
        return bytes(message.data)

    async def until(self, predicate: Any, wait: float = 5) -> bytes:
        while not predicate(frame := await self.frame(wait)):
            pass
        return frame

    async def closed(self, wait: float = 5) -> int:
        while True:
            message = await self.ws.receive(timeout=wait)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return int(message.data or 0)


def is_screen(frame: bytes) -> bool:
    return len(frame) > wire.MESSAGE_HEADER and wire.message_type(frame) == 2


@dataclass
class Rig:
    app: Any
    base: str
    http: aiohttp.ClientSession
    webx: FakeWebX
    instance_id: int = 0

    @property
    def service(self) -> DesktopService:
        return desktop_service(self.app)

    @property
    def protocol(self) -> WebXProtocol:
        protocol = self.service.protocol("webx")
        assert isinstance(protocol, WebXProtocol)
        return protocol

    def session(self) -> Any:
        return runtime(self.app).session()

    async def build(self) -> None:
        async with self.session() as db:
            instance = await add_desktop_instance(
                db,
                protocol="WEBX",
                port=self.webx.port,
                people=PEOPLE,
                members={
                    OWNER: InstanceMemberRole.OWNER,
                    USER: InstanceMemberRole.USER,
                    GUEST: InstanceMemberRole.GUEST,
                },
                uid="webx0001",
                name="my webx desktop",
                screen=(1920, 1080),
                keyboard_layout="fr-fr-azerty",
            )
            self.instance_id = instance.id

    async def ticket(self, user_id: str) -> str:
        token = f"ticket-{user_id}-{utcnow().timestamp()}"
        async with self.session() as db:
            db.add(
                InstanceAuthenticationToken(
                    token=token, instance_id=self.instance_id, user_id=user_id
                )
            )
            await db.commit()
        return token

    @asynccontextmanager
    async def tab(
        self, user_id: str, client_id: str, query: str = "", **options: Any
    ) -> AsyncIterator[Tab]:
        path = f"/api/ws/vdi/{await self.ticket(user_id)}/{client_id}/webx{query}"
        async with self.http.ws_connect(self.base.replace("http", "ws") + path, **options) as ws:
            yield Tab(ws)

    @asynccontextmanager
    async def connected(self, user_id: str, client_id: str, query: str = "") -> AsyncIterator[Tab]:
        """A tab that got the connection message and a first screen from the engine."""
        async with self.tab(user_id, client_id, query) as tab:
            assert await tab.frame() == wire.connection_message(False)
            await tab.until(is_screen)
            yield tab

    @asynccontextmanager
    async def events(self, user_id: str, client_id: str) -> AsyncIterator[Subscriber]:
        async with runtime(self.app).broker.subscribe(user_id, client_id, frozenset()) as sub:
            yield sub

    async def sessions(self) -> list[tuple[str, str, bool]]:
        async with self.session() as db:
            rows = await db.execute(
                select(
                    InstanceSession.protocol,
                    InstanceSession.connection_id,
                    InstanceSession.current,
                ).order_by(InstanceSession.id)
            )
            return [(p, c, cur) for p, c, cur in rows]

    async def members(self) -> list[tuple[str, str, bool]]:
        async with self.session() as db:
            rows = await db.execute(
                select(
                    InstanceSessionMember.session_id,
                    InstanceSessionMember.role,
                    InstanceSessionMember.active,
                ).order_by(InstanceSessionMember.id)
            )
            return [(c, r.value, a) for c, r, a in rows]

    async def settle(self) -> None:
        for _ in range(500):
            service = self.service
            if not service.members and not service.candidates and not service._leaving:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("desktop clients are still connected")


@pytest.fixture
async def rig(
    settings: Any, fake_webx: FakeWebX, db_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Rig]:
    monkeypatch.setattr(desktop_core, "NOP_INTERVAL", 0.3)  # keep-alives without the 5 s wait
    app = create_app(settings)
    async with serve_asgi(app) as base, aiohttp.ClientSession() as http:
        rig = Rig(app, base, http, fake_webx)
        await rig.build()
        rig.protocol.timeout = 1.0
        yield rig
        await rig.settle()


async def next_event(subscriber: Subscriber, event_type: str) -> Event:
    while True:
        event = await asyncio.wait_for(subscriber.queue.get(), 5)
        if event.type == event_type:
            return event


def relay_tasks() -> list[Any]:
    """Every task but the fake's (its engine runs as long as the X session)."""
    return [
        task.get_coro()
        for task in asyncio.all_tasks()
        if not getattr(task.get_coro(), "__qualname__", "").startswith("FakeWebX")
    ]


async def no_more_tasks_than(count: int) -> None:
    """The server's connection tasks end a moment after the sockets close."""
    for _ in range(200):
        if len(relay_tasks()) <= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"tasks left over: {relay_tasks()}")


def from_client(session: FakeWebXSession, marker: bytes) -> list[tuple[int, int]]:
    """(client id, type) of the recorded instructions whose body is ``marker``."""
    return [(i.client_id, i.type) for i in session.instructions if i.data[24:] == marker]


async def test_owner_member_and_guest_share_one_persistent_webx_session(rig: Rig) -> None:
    webx = rig.webx
    tasks_before = len(relay_tasks())
    async with rig.connected(OWNER, "tab-ada") as ada:
        session = webx.only_session()
        assert webx.requests[0].split(",")[3:] == [
            "1920",
            "1080",
            "fr",  # fr-fr-azerty through the keyboard table
            "runtimeMaxQualityIndex=10",
            "logLevel=debug",
        ]
        assert webx.requests[1] == f"connect,{session.session_id},0.0.0"
        assert await rig.sessions() == [("webx", session.session_id, True)]  # the hex id
        async with (
            rig.connected(USER, "tab-alan", "?client-version=1.7.2") as alan,
            rig.connected(GUEST, "tab-grace") as grace,
        ):
            # both joined the owner's session by its id: one creation, three clients
            assert webx.commands().count("create_async") == 1
            assert f"connect,{session.session_id},1.7.2" in webx.requests
            assert len(session.clients) == 3
            await ada.ws.send_bytes(instruction(wire.MOUSE, b"ada-mouse"))
            await ada.ws.send_bytes(instruction(wire.SCREEN_RESIZE, b"ada-resize"))
            await ada.ws.send_bytes(instruction(wire.KEYBOARD_LAYOUT, b"ada-layout"))
            await alan.ws.send_bytes(instruction(wire.SCREEN_RESIZE, b"alan-resize"))
            await alan.ws.send_bytes(instruction(wire.KEYBOARD_LAYOUT, b"alan-layout"))
            await alan.ws.send_bytes(instruction(wire.KEYBOARD, b"alan-key"))
            await grace.ws.send_bytes(instruction(wire.MOUSE, b"grace-mouse"))
            await grace.ws.send_bytes(instruction(wire.KEYBOARD, b"grace-key"))
            await grace.ws.send_bytes(instruction(2, b"grace-ack"))  # not input: forwarded
            await webx.wait_until(lambda f: len(session.instructions) >= 5)
            await asyncio.sleep(0.2)  # nothing else arrives
            bodies = sorted(i.data[24:] for i in session.instructions)
            assert bodies == [b"ada-layout", b"ada-mouse", b"ada-resize", b"alan-key", b"grace-ack"]
            ids = {body: from_client(session, body)[0][0] for body in bodies}
            assert ids[b"ada-mouse"] == ids[b"ada-resize"] == ids[b"ada-layout"]
            assert len({ids[b"ada-mouse"], ids[b"alan-key"], ids[b"grace-ack"]}) == 3
            assert set(ids.values()) == set(session.clients)  # the ids the router gave
            assert all(i.session_id == session.session_id for i in session.instructions)
            # the relay's keep-alive: a 48-byte all-zero frame
            assert await ada.until(lambda f: f == bytes(48)) == wire.NOP
            # a message for Grace's client only reaches Grace
            only = await session.send(b"grace only", clients=[ids[b"grace-ack"]], type_=7)
            assert (await grace.until(lambda f: f.endswith(b"grace only")))[:16] == only[:16]
            await session.send(b"ada only", clients=[ids[b"ada-mouse"]], type_=7)
            seen: list[bytes] = []
            while not (seen and seen[-1].endswith(b"ada only")):
                seen.append(await ada.frame())
            assert not any(f.endswith(b"grace only") for f in seen)
            await alan.ws.close()
            await grace.ws.close()
            await webx.wait_until(lambda f: len(session.clients) == 1)
    await rig.settle()
    # everyone left: 'disconnect' for each client, but the WebX session stays current
    assert webx.commands().count("disconnect") == 3 and session.clients == {}
    assert await rig.sessions() == [("webx", session.session_id, True)]
    assert [active for *_, active in await rig.members()] == [False, False, False]
    # a member may join the running session while the owner is away; the owner comes back to it
    async with rig.connected(USER, "tab-alan-2"), rig.connected(OWNER, "tab-ada-2") as ada:
        assert webx.commands().count("create_async") == 1
        assert webx.requests.count(f"status,{session.session_id}") == 4  # 2 joins before, 2 now
        assert len(session.clients) == 2
        await ada.ws.send_bytes(instruction(wire.MOUSE, b"ada-back"))
        await webx.wait_until(lambda f: bool(from_client(session, b"ada-back")))
    await rig.settle()
    assert await rig.sessions() == [("webx", session.session_id, True)]
    assert rig.protocol.open_sockets == set()
    await webx.wait_until(lambda f: not session.clients)
    await no_more_tasks_than(tasks_before)


async def test_an_unreachable_router_tells_the_gateway_and_closes(rig: Rig) -> None:
    rig.webx.unreachable = True
    async with rig.events(OWNER, "tab-ada") as events, rig.tab(OWNER, "tab-ada") as tab:
        assert await tab.closed() == 1011
        failed = await next_event(events, "vdi:user_disconnected")
        assert failed.data is None  # VISA sends no data when the desktop cannot be reached
    await rig.settle()
    assert await rig.sessions() == []
    assert await rig.members() == []
    assert rig.protocol.open_sockets == set()


async def test_subprotocol_and_bad_frames(rig: Rig) -> None:
    async with rig.tab(OWNER, "tab-1", protocols=("webx",)) as tab:
        assert tab.ws.protocol == "webx"  # declared, when asked
        assert await tab.frame() == wire.connection_message(False)
        await tab.ws.send_str("not binary")
        assert await tab.closed() == 1007
    async with rig.tab(OWNER, "tab-2") as tab:
        assert tab.ws.protocol is None  # webx-client asks for none: none is required
        assert await tab.frame() == wire.connection_message(False)
        await tab.ws.send_bytes(b"\x00" * 10)  # shorter than a WebX instruction header
        assert await tab.closed() == 1007
    async with rig.tab(OWNER, "tab-3") as tab:
        assert await tab.frame() == wire.connection_message(False)
        await tab.ws.send_bytes(instruction(2, b"x" * (300 * 1024)))  # over 256 KiB
        assert await tab.closed() == 1007
    await rig.settle()
    session = rig.webx.only_session()
    assert rig.webx.commands().count("create_async") == 1  # tabs 2 and 3 joined it
    assert await rig.sessions() == [("webx", session.session_id, True)]
    assert rig.protocol.open_sockets == set()


async def test_a_stale_session_id_is_retired_and_a_new_session_created(rig: Rig) -> None:
    async with rig.session() as db:  # a session the router no longer knows (the VM rebooted)
        db.add(
            InstanceSession(
                instance_id=rig.instance_id, protocol="webx", connection_id="ab" * 16, current=True
            )
        )
        await db.commit()
    async with rig.connected(OWNER, "tab-ada"):
        session = rig.webx.only_session()
        assert rig.webx.commands()[:2] == ["status", "create_async"]
        assert await rig.sessions() == [
            ("webx", "ab" * 16, False),
            ("webx", session.session_id, True),
        ]


async def test_a_starting_session_sends_nops_until_it_runs(rig: Rig) -> None:
    rig.webx.starting_polls = 2
    rig.protocol.status_interval = 0.05
    async with rig.tab(OWNER, "tab-ada") as tab:
        assert await tab.frame() == wire.connection_message(True)
        assert await tab.frame() == wire.NOP
        assert await tab.until(lambda f: f != wire.NOP) == wire.connection_message(False)
        await tab.until(is_screen)
        await tab.ws.send_bytes(instruction(wire.MOUSE, b"started"))
        session = rig.webx.only_session()
        await rig.webx.wait_until(lambda f: bool(from_client(session, b"started")))
        assert await rig.sessions() == [("webx", session.session_id, True)]


async def test_an_engine_that_dies_closes_the_socket_and_the_next_visit_starts_afresh(
    rig: Rig,
) -> None:
    rig.protocol.ping_interval = 0.1
    async with rig.connected(OWNER, "tab-ada") as tab:
        dead = rig.webx.only_session()
        dead.drop_engine()
        assert await tab.closed() == 1011
    await rig.settle()
    assert rig.protocol.open_sockets == set()
    # the row still names the dead session: joining it is refused, so a new one is made
    async with rig.connected(OWNER, "tab-ada-2"):
        alive = [s for s in rig.webx.sessions.values() if s.engine_alive]
        assert len(alive) == 1
        assert await rig.sessions() == [
            ("webx", dead.session_id, False),
            ("webx", alive[0].session_id, True),
        ]


async def test_a_visa_pam_image_logs_in_with_a_signature(rig: Rig, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    rig.service.settings = rig.service.settings.model_copy(
        update={"vdi_signature_private_key_path": tmp_path / "key.pem"}
    )
    async with rig.session() as db:
        image = Image(
            name="Desktop", icon="d.png", compute_id="img", autologin="VISA_PAM", visible=True
        )
        plan = Plan(image=image, preset=True)
        db.add(plan)
        await db.commit()
        await db.execute(
            update(Instance).where(Instance.id == rig.instance_id).values(plan_id=plan.id)
        )
        await db.commit()
    async with rig.connected(OWNER, "tab-ada"):
        session = rig.webx.only_session()
        message, signature = session.password.split(";")
        key.public_key().verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        assert message.startswith("ada,") and session.username == "ada"
