"""The fake guacd's RFB client, byte by byte against a scripted VNC server (no X needed)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from visa_platform.testing.rfb_client import (
    PIXEL_FORMAT,
    Area,
    RfbClient,
    RfbError,
    vnc_auth_response,
)

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(script: Script) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def server_init(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    types: bytes = b"\x01",
    password: str | None = None,
    seen: dict[str, Any] | None = None,
) -> None:
    """The server side of the handshake, up to the client's first update request."""
    seen = seen if seen is not None else {}
    writer.write(b"RFB 003.008\n")
    seen["version"] = await reader.readexactly(12)
    writer.write(bytes([len(types)]) + types)
    seen["security"] = (await reader.readexactly(1))[0]
    if seen["security"] == 2:
        challenge = bytes(range(16))
        writer.write(challenge)
        answer = await reader.readexactly(16)
        ok = password is not None and answer == vnc_auth_response(password, challenge)
        writer.write(struct.pack(">I", 0 if ok else 1))
        if not ok:
            return
    else:
        writer.write(struct.pack(">I", 0))
    seen["shared"] = (await reader.readexactly(1))[0]
    name = b"scripted"
    writer.write(struct.pack(">HH", 4, 2) + bytes(16) + struct.pack(">I", len(name)) + name)
    seen["pixel_format"] = await reader.readexactly(20)
    header = await reader.readexactly(4)
    (count,) = struct.unpack(">xxH", header)
    seen["encodings"] = struct.unpack(f">{count}i", await reader.readexactly(4 * count))
    seen["request"] = await reader.readexactly(10)


def pixel(r: int, g: int, b: int) -> bytes:
    return bytes((r, g, b, 0))


async def test_handshake_raw_copyrect_and_input_events() -> None:
    seen: dict[str, Any] = {}
    done, initialised = asyncio.Event(), asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server_init(reader, writer, seen=seen)
        initialised.set()
        # a Bell and a ServerCutText are skipped; then one update: Raw 2x1 at (0,0), CopyRect
        # of it to (2,1)
        writer.write(b"\x02" + b"\x03\x00\x00\x00" + struct.pack(">I", 3) + b"abc")
        writer.write(struct.pack(">BxH", 0, 2))
        writer.write(struct.pack(">HHHHi", 0, 0, 2, 1, 0) + pixel(255, 0, 0) + pixel(0, 255, 0))
        writer.write(struct.pack(">HHHHi", 2, 1, 2, 1, 1) + struct.pack(">HH", 0, 0))
        seen["next"] = await reader.readexactly(10)
        seen["pointer"] = await reader.readexactly(6)
        seen["key"] = await reader.readexactly(8)
        await done.wait()

    server, port = await serve(script)
    async with server:
        client = await RfbClient.connect("127.0.0.1", port)
        try:
            await asyncio.wait_for(initialised.wait(), 5)
            assert (client.width, client.height, client.name) == (4, 2, "scripted")
            assert seen["version"] == b"RFB 003.008\n"
            assert (seen["security"], seen["shared"]) == (1, 1)
            assert seen["pixel_format"] == b"\x00" * 4 + PIXEL_FORMAT
            assert seen["encodings"] == (1, 0)  # CopyRect, Raw
            assert seen["request"] == struct.pack(">BBHHHH", 3, 0, 0, 0, 4, 2)  # everything

            assert await client.next_update() == Area(0, 0, 4, 2)
            red, green, black = b"\xff\x00\x00", b"\x00\xff\x00", b"\x00\x00\x00"
            assert client.rgb(Area(0, 0, 4, 2)) == red + green + black * 2 + black * 2 + red + green
            assert client.rgb(Area(2, 1, 2, 1)) == red + green

            await client.request_update()
            await client.pointer(5000, 1, 0b101)  # clamped to the screen
            await client.key(0xFF0D, True)
            for _ in range(100):
                if "key" in seen:
                    break
                await asyncio.sleep(0.01)
            assert seen["next"] == struct.pack(">BBHHHH", 3, 1, 0, 0, 4, 2)  # incremental
            assert seen["pointer"] == struct.pack(">BBHH", 5, 0b101, 3, 1)
            assert seen["key"] == struct.pack(">BBxxI", 4, 1, 0xFF0D)
        finally:
            done.set()
            await client.close()


async def test_vnc_authentication() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server_init(reader, writer, types=b"\x02", password="secret12")
        await reader.read()

    server, port = await serve(script)
    async with server:
        client = await RfbClient.connect("127.0.0.1", port, password="secret12")
        await client.close()
        with pytest.raises(RfbError, match="authentication failed"):
            await RfbClient.connect("127.0.0.1", port, password="wrong")
        with pytest.raises(RfbError, match="no usable security type"):
            await RfbClient.connect("127.0.0.1", port)  # no password for a VNC-auth server


async def test_not_a_vnc_server_and_a_refusal() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad\r\n\r\n")
        await writer.drain()

    async def refusing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await reader.readexactly(12)
        writer.write(b"\x00" + struct.pack(">I", 9) + b"too many!")
        await writer.drain()

    for script, message in ((http, "not a VNC server"), (refusing, "too many!")):
        server, port = await serve(script)
        async with server:
            with pytest.raises(RfbError, match=message):
                await RfbClient.connect("127.0.0.1", port)
