"""The fake guacd backed by a real X desktop: Xvfb + x11vnc, through its own RFB client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_fake_guacd import Client

from visa_platform.testing.fake_guacd import FakeGuacd, encode
from visa_platform.testing.servers import free_port
from visa_platform.testing.system import needs
from visa_platform.testing.xdesktop import XDesktop, window_args

pytestmark = needs("Xvfb", "x11vnc", "xdotool", "xterm", packages="xvfb x11vnc xdotool xterm")

PINK = (0xD0, 0x20, 0x90)
GREEN = (0x20, 0xB0, 0x40)


def decode_png(png: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGB rows) of an 8-bit RGB PNG with filter 0 (what the fake writes)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    row = width * 3
    assert all(raw[i * (row + 1)] == 0 for i in range(height))
    return (
        width,
        height,
        b"".join(raw[i * (row + 1) + 1 : (i + 1) * (row + 1)] for i in range(height)),
    )


class Screen:
    """The display as a Guacamole client draws it: ``size`` and PNG ``img`` streams."""

    def __init__(self) -> None:
        self.width = self.height = 0
        self.pixels = bytearray()
        self.streams: dict[str, tuple[int, int, list[str]]] = {}
        self.syncs = 0

    def apply(self, instruction: list[str]) -> None:
        opcode, args = instruction[0], instruction[1:]
        if opcode == "size" and args[0] == "0":
            self.width, self.height = int(args[1]), int(args[2])
            self.pixels = bytearray(self.width * self.height * 3)
        elif opcode == "img":
            assert args[3] == "image/png" and args[2] == "0"
            self.streams[args[0]] = (int(args[4]), int(args[5]), [])
        elif opcode == "blob":
            self.streams[args[0]][2].append(args[1])
        elif opcode == "end":
            x, y, blobs = self.streams.pop(args[0])
            w, h, rgb = decode_png(base64.b64decode("".join(blobs)))
            for line in range(h):
                start = ((y + line) * self.width + x) * 3
                self.pixels[start : start + w * 3] = rgb[line * w * 3 : (line + 1) * w * 3]
        elif opcode == "sync":
            self.syncs += 1

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        start = (y * self.width + x) * 3
        r, g, b = self.pixels[start : start + 3]
        return r, g, b

    async def follow(self, client: Client, until: object, within: float = 10) -> None:
        """Apply instructions until ``until(self)`` holds after a ``sync``."""
        async with asyncio.timeout(within):
            while True:
                instruction = await client.receive()
                assert instruction is not None, "the stream ended"
                self.apply(instruction)
                if instruction[0] == "sync" and until(self):  # type: ignore[operator]
                    return


def close_to(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 8 for x, y in zip(a, b, strict=True))


@pytest.fixture
async def desktop() -> AsyncIterator[XDesktop]:
    async with XDesktop(width=320, height=240) as desktop:
        yield desktop


@pytest.fixture
async def guacd() -> AsyncIterator[FakeGuacd]:
    async with FakeGuacd(vnc_backed=True) as guacd:
        yield guacd


async def test_frames_show_the_x_screen_and_input_reaches_it(
    desktop: XDesktop, guacd: FakeGuacd, tmp_path: Path
) -> None:
    typed = tmp_path / "typed.txt"
    await desktop.spawn(*window_args(title="pink", colour="#d02090", x=40, y=30))
    await desktop.wait_for_window("pink")
    client = await Client.open(guacd)
    try:
        ready = await client.handshake("vnc", hostname="127.0.0.1", port=str(desktop.port))
        assert ready is not None and ready[0] == "ready"
        screen = Screen()
        await screen.follow(client, lambda s: s.width == 320)
        assert (screen.width, screen.height) == (320, 240)
        assert close_to(screen.pixel(80, 60), PINK)
        assert screen.pixel(300, 220) == (0, 0, 0)  # Xvfb -br: a black root window

        # a new window on the X screen shows up in the stream (an update of that area)
        await desktop.spawn(*window_args(title="green", colour="#20b040", x=200, y=150))
        await screen.follow(client, lambda s: close_to(s.pixel(260, 180), GREEN))
        assert close_to(screen.pixel(80, 60), PINK)

        # mouse: the X pointer moves
        client.send(encode("mouse", 123, 77, 0))
        for _ in range(100):
            if await desktop.mouse_location() == (123, 77):
                break
            await asyncio.sleep(0.05)
        assert await desktop.mouse_location() == (123, 77)

        # keyboard: typed into a shell in an xterm (X focus follows the pointer: no window manager)
        await desktop.spawn(
            "xterm",
            "-title",
            "shell",
            "-geometry",
            "20x4+10+150",
            "-e",
            "sh",
            "-c",
            f'read line; echo "$line" > {typed}',
        )
        await desktop.wait_for_window("shell")
        client.send(encode("mouse", 40, 170, 0))
        await asyncio.sleep(0.2)
        for keysym in (0x6F, 0x6B, 0xFF0D):  # o k Return
            client.send(encode("key", keysym, 1), encode("key", keysym, 0))
        for _ in range(100):
            if typed.exists() and typed.read_text() == "ok\n":
                break
            await asyncio.sleep(0.05)
        assert typed.read_text() == "ok\n"
        connection = guacd.only_connection()
        assert connection.updates >= 1
        assert {"mouse", "key"} <= set(connection.opcodes())
    finally:
        client.send(encode("disconnect"))
        await client.close()
    await guacd.wait_until(lambda g: not g.connections and g.open_sockets == 0)


async def test_a_joining_user_gets_the_current_screen(desktop: XDesktop, guacd: FakeGuacd) -> None:
    await desktop.spawn(*window_args(title="pink", colour="#d02090", x=0, y=0))
    await desktop.wait_for_window("pink")
    first, second = await Client.open(guacd), await Client.open(guacd)
    try:
        ready = await first.handshake("vnc", hostname="127.0.0.1", port=str(desktop.port))
        assert ready is not None
        joined = await second.handshake(ready[1])
        assert joined == ["ready", ready[1]]
        screen = Screen()
        await screen.follow(second, lambda s: s.width == 320)
        assert close_to(screen.pixel(20, 20), PINK)
    finally:
        for client in (first, second):
            await client.close()
    await guacd.wait_until(lambda g: not g.connections and g.open_sockets == 0)


async def test_vnc_authentication_and_an_unreachable_server(guacd: FakeGuacd) -> None:
    async with XDesktop(width=200, height=100, password="secret12") as desktop:
        client = await Client.open(guacd)
        try:
            ready = await client.handshake(
                "vnc", hostname="127.0.0.1", port=str(desktop.port), password="secret12"
            )
            assert ready is not None and ready[0] == "ready"
            size = await client.until("size")
            assert size[1:] == ["0", "200", "100"]
        finally:
            await client.close()

        wrong = await Client.open(guacd)
        try:
            ready = await wrong.handshake(
                "vnc", hostname="127.0.0.1", port=str(desktop.port), password="wrong"
            )
            assert ready is not None and ready[0] == "ready"
            assert await wrong.receive() == ["error", "Aborted. See logs.", "519"]
            assert await wrong.receive() is None
        finally:
            await wrong.close()

    nobody = await Client.open(guacd)
    with contextlib.closing(nobody.writer):
        ready = await nobody.handshake("vnc", hostname="127.0.0.1", port=str(free_port()))
        assert ready is not None and ready[0] == "ready"
        assert await nobody.receive() == ["error", "Aborted. See logs.", "519"]
    await guacd.wait_until(lambda g: not g.connections and g.open_sockets == 0)


async def test_the_display_ends_when_the_vnc_server_goes_away(guacd: FakeGuacd) -> None:
    desktop = XDesktop(width=160, height=120)
    await desktop.start()
    client = await Client.open(guacd)
    try:
        await client.handshake("vnc", hostname="127.0.0.1", port=str(desktop.port))
        await client.until("sync")
        await desktop.stop()
        assert await client.until("error") == ["error", "Aborted. See logs.", "515"]
        assert await client.receive() is None
    finally:
        await desktop.stop()
        await client.close()
    await guacd.wait_until(lambda g: not g.connections and g.open_sockets == 0)
