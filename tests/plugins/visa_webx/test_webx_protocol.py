"""The WebX protocol (the asyncio webx-relay) against the fake WebX Router and engine."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from visa_platform.config import load_settings
from visa_platform.desktop.protocol import (
    BadClientFrame,
    CloseWhy,
    DesktopConnectError,
    DesktopTarget,
    InstructionKind,
)
from visa_platform.testing.fake_webx import FakeWebX
from visa_webx import wire
from visa_webx.protocol import WebXClientReader, WebXConnection, WebXProtocol


def target(fake: FakeWebX, **changes: Any) -> DesktopTarget:
    values: dict[str, Any] = {
        "instance_id": 1,
        "host": fake.host,
        "port": fake.port,
        "username": "ada",
        "password": "ada,1700000000;c2lnbmF0dXJl",
        "screen_width": 1280,
        "screen_height": 1024,
        "keyboard_layout": "fr-ch-qwertz",
    }
    values.update(changes)
    return DesktopTarget(**values)


@pytest.fixture
async def protocol(tmp_path: Path) -> AsyncIterator[WebXProtocol]:
    settings = load_settings(
        environ={}, data_dir=tmp_path, vdi_webx_engine_runtime_max_quality_index=7
    )
    webx = WebXProtocol(settings, timeout=1)
    webx.status_interval = 0.05
    yield webx
    await webx.aclose()


def instruction(type_: int, body: bytes = b"") -> bytes:
    return b"\xaa" * 20 + type_.to_bytes(4, "little") + body


async def frames_until(connection: WebXConnection, predicate: Any) -> list[bytes]:
    out: list[bytes] = []
    while not out or not predicate(out[-1]):
        frame = await asyncio.wait_for(connection.receive(), 5)
        assert isinstance(frame, bytes)
        out.append(frame)
    return out


def is_screen(frame: bytes) -> bool:
    return len(frame) > 48 and wire.message_type(frame) == 2


async def test_a_new_session_then_a_joining_client(
    fake_webx: FakeWebX, protocol: WebXProtocol
) -> None:
    first = await protocol.open(target(fake_webx))
    second = await protocol.open(
        target(
            fake_webx,
            connection_id=first.connection_id,
            client_options={"clientVersion": "1.7.2"},
        )
    )
    try:
        session = fake_webx.only_session()
        assert first.connection_id == second.connection_id == session.session_id
        user = base64.b64encode(b"ada").decode()
        password = base64.b64encode(b"ada,1700000000;c2lnbmF0dXJl").decode()
        assert fake_webx.requests[:3] == [
            f"create_async,{user},{password},1280,1024,ch(fr),"
            "runtimeMaxQualityIndex=7,logLevel=debug",
            f"connect,{session.session_id},0.0.0",
            f"status,{session.session_id}",
        ]
        assert fake_webx.requests[3] == f"connect,{session.session_id},1.7.2"
        # the synthetic connection message first (type 1, "not starting")
        frames = await frames_until(first, is_screen)
        assert frames[0] == wire.connection_message(False)
        assert wire.message_session(frames[-1]) == bytes.fromhex(session.session_id)
        # header patching: session id at 0-15, this client's id (LE) at 16-19
        await first.send(instruction(wire.MOUSE, b"move"))
        await fake_webx.wait_until(lambda f: len(session.instructions) == 1)
        got = session.instructions[0]
        assert got.session_id == session.session_id and got.client_id == first.client_id
        assert (
            got.data
            == bytes.fromhex(session.session_id)
            + got.client_id.to_bytes(4, "little")
            + wire.MOUSE.to_bytes(4, "little")
            + b"move"
        )
        # a message for the second client only never reaches the first
        assert second.client_id is not None
        only = await session.send(b"for two", clients=[second.client_id], type_=7)
        frames = await frames_until(second, lambda f: f[36:] == only[36:])
        assert frames[-1][:16] == only[:16] and frames[-1][19:] == only[19:]
        await session.send(b"for one", clients=[first.client_id], type_=8)
        seen = await frames_until(first, lambda f: f.endswith(b"for one"))
        assert not any(f.endswith(b"for two") for f in seen)
    finally:
        await first.close()
        await second.close()
    assert fake_webx.commands()[-2:] == ["disconnect", "disconnect"]
    assert session.clients == {}
    assert protocol.open_sockets == set()
    assert await first.receive() is None
    await first.close()  # twice is harmless


async def test_a_starting_session_gets_nops_until_it_runs(
    fake_webx: FakeWebX, protocol: WebXProtocol
) -> None:
    fake_webx.starting_polls = 3
    connection = await protocol.open(target(fake_webx))
    try:
        assert not connection.connected
        await connection.send(instruction(wire.KEYBOARD))  # no client id yet: not sent
        frames = await frames_until(connection, is_screen)
        assert frames[0] == wire.connection_message(True)
        assert frames[1:4] == [wire.NOP] * 3
        assert frames[4] == wire.connection_message(False)
        polls = ["status"] * 4
        assert fake_webx.commands() == ["create_async", *polls, "connect"]
        assert connection.connected and fake_webx.only_session().instructions == []
    finally:
        await connection.close()


async def test_legacy_router_falls_back_to_create(
    fake_webx: FakeWebX, protocol: WebXProtocol
) -> None:
    fake_webx.legacy = True
    connection = await protocol.open(target(fake_webx, password=None, keyboard_layout="xx-yy"))
    try:
        assert fake_webx.commands()[:3] == ["create_async", "create", "connect"]
        assert fake_webx.requests[1].split(",")[2:6] == ["", "1280", "1024", "xx-yy"]
        joined = await protocol.open(target(fake_webx, connection_id=connection.connection_id))
        await joined.close()  # an empty 'status' answer means running
    finally:
        await connection.close()


async def test_aclose_ends_the_sockets_and_the_context_the_protocol_made(
    fake_webx: FakeWebX, protocol: WebXProtocol
) -> None:
    connection = await protocol.open(target(fake_webx))
    context = protocol.context
    assert protocol.open_sockets and not context.closed
    await protocol.aclose()  # the server stops with a client still there
    assert protocol.open_sockets == set() and context.closed
    await connection.close()  # what the core's leave does afterwards: nothing breaks


async def test_failures_are_connect_errors(fake_webx: FakeWebX, protocol: WebXProtocol) -> None:
    fake_webx.passwords = {"ada": "another"}
    with pytest.raises(DesktopConnectError, match="authentication error"):
        await protocol.open(target(fake_webx))
    fake_webx.passwords = None
    fake_webx.fail_creation = True
    with pytest.raises(DesktopConnectError, match=r"creation error \(code 2\)"):
        await protocol.open(target(fake_webx))
    with pytest.raises(DesktopConnectError, match="invalid parameters"):
        await protocol.open(target(fake_webx, screen_width=0))
    fake_webx.fail_creation = False
    with pytest.raises(DesktopConnectError, match="unknown to the router"):
        await protocol.open(target(fake_webx, connection_id="ab" * 16))
    with pytest.raises(DesktopConnectError, match="not a WebX session id"):
        await protocol.open(target(fake_webx, connection_id="$guacd-id"))
    fake_webx.unreachable = True
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DesktopConnectError, match="no answer from the WebX Router to 'comm'"):
        await protocol.open(target(fake_webx))
    assert loop.time() - started < 3
    fake_webx.unreachable = False
    fake_webx.delay = 1.5  # slower than the 1 s timeout
    with pytest.raises(DesktopConnectError, match="no answer"):
        await protocol.open(target(fake_webx))
    assert protocol.open_sockets == set()


async def test_the_engine_going_away_ends_the_tunnel(
    fake_webx: FakeWebX, protocol: WebXProtocol
) -> None:
    protocol.ping_interval = 0.1
    dropped = await protocol.open(target(fake_webx))
    session = fake_webx.only_session()
    await frames_until(dropped, is_screen)
    session.drop_engine()
    with pytest.raises(DesktopConnectError, match="pang"):
        while True:
            await asyncio.wait_for(dropped.receive(), 5)
    await dropped.close()
    ended = await protocol.open(target(fake_webx, username="alan"))
    await frames_until(ended, is_screen)
    await fake_webx.sessions[ended.connection_id].disconnect_clients()
    while (frame := await asyncio.wait_for(ended.receive(), 5)) is not None:
        assert wire.message_type(frame) != wire.DISCONNECT_MESSAGE
    await ended.close()
    assert protocol.open_sockets == set()


def test_client_reader_classifies_by_the_type_at_byte_20() -> None:
    reader = WebXClientReader()
    kinds = {
        t: reader.feed(instruction(t))[0].kind for t in (wire.MOUSE, wire.KEYBOARD, 13, 14, 1, 2)
    }
    assert kinds == {
        wire.MOUSE: InstructionKind.MOUSE,
        wire.KEYBOARD: InstructionKind.KEYBOARD,
        wire.SCREEN_RESIZE: InstructionKind.OWNER_ONLY,
        wire.KEYBOARD_LAYOUT: InstructionKind.OWNER_ONLY,
        1: InstructionKind.OTHER,
        2: InstructionKind.OTHER,
    }
    assert reader.feed(instruction(0x105))[0].kind is InstructionKind.MOUSE  # the low byte
    for bad in ("text", b"\x00" * 23, instruction(2, b"x" * 300_000)):
        with pytest.raises(BadClientFrame):
            reader.feed(bad)


def test_wire_details(protocol: WebXProtocol) -> None:
    assert wire.keyboard("de-ch-qwertz") == "ch(de)" and wire.keyboard("en-us-qwerty") == "us"
    assert wire.keyboard("ko-kr-qwerty") == "ko-kr-qwerty"
    assert wire.client_version(None) == "0.0.0" and wire.client_version("1.7.2") == "1.7.2"
    assert wire.client_version("1.0,ping") == "0.0.0"  # no request injection
    assert bytes(48) == wire.NOP and protocol.keepalive == wire.NOP
    assert protocol.persistent_sessions and protocol.port_protocol == "WEBX"
    assert protocol.default_port == 5555
    assert all(protocol.close_reason(why) for why in CloseWhy)
