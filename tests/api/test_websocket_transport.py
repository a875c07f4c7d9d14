"""Websockets decline permessage-deflate unless VISA_SERVER_WEBSOCKET_COMPRESSION asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from hypercorn.protocol import ws_stream
from quart import Quart, websocket

from visa_platform.api.ws.compression import DeclinedDeflate, set_websocket_compression
from visa_platform.app import create_app
from visa_platform.config import load_settings
from visa_platform.testing.servers import serve_asgi


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    before = ws_stream.PerMessageDeflate  # type: ignore[attr-defined]
    yield
    ws_stream.PerMessageDeflate = before  # type: ignore[attr-defined]


def echo_app() -> Quart:
    app = Quart(__name__)

    @app.websocket("/echo")
    async def echo() -> None:
        await websocket.accept()
        await websocket.send(await websocket.receive())

    return app


async def handshake(enabled: bool) -> tuple[str | None, str]:
    """The extensions Hypercorn answers a browser's offer with, and an echoed message."""
    set_websocket_compression(enabled)
    async with (
        serve_asgi(echo_app()) as base,
        aiohttp.ClientSession() as http,
        # compress=15 offers permessage-deflate, as browsers do
        http.ws_connect(f"{base.replace('http', 'ws')}/echo", compress=15) as ws,
    ):
        answered = ws._response.headers.get("Sec-WebSocket-Extensions")
        await ws.send_str("4.sync,1.0;")
        return answered, str(await ws.receive_str(timeout=5))


async def test_the_browser_offer_is_declined_by_default() -> None:
    answered, echoed = await handshake(False)
    assert answered is None
    assert echoed == "4.sync,1.0;"


async def test_the_offer_is_accepted_when_asked_for() -> None:
    answered, echoed = await handshake(True)
    assert answered is not None and answered.startswith("permessage-deflate")
    assert echoed == "4.sync,1.0;"


@pytest.mark.parametrize("enabled", [False, True])
def test_the_app_applies_the_setting(tmp_path: Path, enabled: bool) -> None:
    create_app(load_settings(data_dir=tmp_path, server_websocket_compression=enabled))
    chosen = ws_stream.PerMessageDeflate  # type: ignore[attr-defined]
    assert (chosen is DeclinedDeflate) is not enabled
