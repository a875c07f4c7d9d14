"""Our server's websockets: permessage-deflate declined unless asked for, frames in one copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypercorn.protocol import ws_stream
from quart import Quart, websocket
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, Ping, TextMessage
from wsproto.extensions import PerMessageDeflate

from visa_platform.api.ws.transport import (
    DeclinedDeflate,
    OneCopyConnection,
    configure_websockets,
    server_frame,
)
from visa_platform.app import create_app
from visa_platform.config import load_settings
from visa_platform.testing.servers import serve_asgi

PAYLOADS: list[Any] = [
    "",
    "4.sync,1.0;",
    "é" * 62 + "x",  # 125 bytes
    "a" * 126,
    "€😀" * 9362,  # 65,534 bytes
    "a" * 65_535,
    "a" * 65_536,
    "4.blob," + "A" * 300_000 + ";",
    b"",
    b"\x00\xff" * 70_000,
    bytearray(b"rfb"),
]


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    before = ws_stream.PerMessageDeflate, ws_stream.Connection  # type: ignore[attr-defined]
    yield
    ws_stream.PerMessageDeflate, ws_stream.Connection = before  # type: ignore[attr-defined]


@pytest.mark.parametrize("data", PAYLOADS, ids=lambda d: f"{type(d).__name__}-{len(d)}")
def test_frames_are_wsprotos_byte_for_byte(data: Any) -> None:
    event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
    expected = Connection(ConnectionType.SERVER).send(event)
    assert server_frame(data) == expected
    assert OneCopyConnection(ConnectionType.SERVER).send(event) == expected


def test_what_the_short_cut_does_not_cover_is_wsprotos() -> None:
    """Fragments, control frames, extensions and clients go through wsproto unchanged."""
    events = [
        TextMessage(data="4.sync,", message_finished=False),
        TextMessage(data="1.0;"),  # the end of a fragmented message: a continuation frame
        Ping(payload=b"hi"),
        BytesMessage(data=b"x" * 200),
    ]
    for connection_type, extensions in [
        (ConnectionType.SERVER, []),
        (ConnectionType.CLIENT, []),
        (ConnectionType.SERVER, "deflate"),
    ]:
        ours, theirs = [
            cls(connection_type, _deflate() if extensions else None)
            for cls in (OneCopyConnection, Connection)
        ]
        for event in events:
            if connection_type is ConnectionType.CLIENT:  # masked with a random key
                assert len(ours.send(event)) == len(theirs.send(event))
            else:
                assert ours.send(event) == theirs.send(event)


def _deflate() -> list[PerMessageDeflate]:
    extension = PerMessageDeflate()
    extension.accept("permessage-deflate")
    return [extension]


def echo_app() -> Quart:
    app = Quart(__name__)

    @app.websocket("/echo")
    async def echo() -> None:
        await websocket.accept()
        while True:
            await websocket.send(await websocket.receive())

    return app


async def exchange(compression: bool) -> tuple[int, list[Any]]:
    """The deflate window the handshake settled on (0: none), and the messages echoed."""
    configure_websockets(compression)
    echoed = []
    sent = [p for p in PAYLOADS if p != b""]  # Quart takes an empty binary message for a close
    async with (
        serve_asgi(echo_app()) as base,
        aiohttp.ClientSession() as http,
        # compress=15 offers permessage-deflate, as browsers do
        http.ws_connect(f"{base.replace('http', 'ws')}/echo", compress=15, max_msg_size=0) as ws,
    ):
        negotiated = ws.compress
        for data in sent:
            if isinstance(data, str):
                await ws.send_str(data)
                echoed.append(await ws.receive_str(timeout=5))
            else:
                await ws.send_bytes(bytes(data))
                echoed.append(await ws.receive_bytes(timeout=5))
    return negotiated, echoed


async def test_the_browser_offer_is_declined_by_default() -> None:
    negotiated, echoed = await exchange(False)
    assert negotiated == 0
    assert echoed == [p if isinstance(p, str) else bytes(p) for p in PAYLOADS if p != b""]


async def test_the_offer_is_accepted_when_asked_for() -> None:
    negotiated, echoed = await exchange(True)
    assert negotiated == 15
    assert echoed == [p if isinstance(p, str) else bytes(p) for p in PAYLOADS if p != b""]


@pytest.mark.parametrize("enabled", [False, True])
def test_the_app_applies_the_setting(tmp_path: Path, enabled: bool) -> None:
    create_app(load_settings(data_dir=tmp_path, server_websocket_compression=enabled))
    chosen = ws_stream.PerMessageDeflate  # type: ignore[attr-defined]
    assert (chosen is DeclinedDeflate) is not enabled
    assert ws_stream.Connection is OneCopyConnection  # type: ignore[attr-defined]
