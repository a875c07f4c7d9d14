"""A small asyncio RFB 3.8 (VNC) client: what the fake guacd uses to show a real X desktop.

RFC 6143: the version and security handshake (None or VNC authentication), ClientInit /
ServerInit, our pixel format (32 bpp true colour, bytes R, G, B, padding), the Raw and CopyRect
encodings, incremental FramebufferUpdateRequests, and PointerEvent / KeyEvent. The framebuffer
is kept here (:attr:`RfbClient.framebuffer`); :meth:`RfbClient.next_update` answers the area
that changed with each update.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

VERSION = b"RFB 003.008\n"
SECURITY_NONE, SECURITY_VNC = 1, 2
RAW, COPY_RECT = 0, 1
#: SetPixelFormat body: 32 bpp, depth 24, little endian, true colour, red at bits 0-7.
PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 0, 8, 16)
BYTES_PER_PIXEL = 4


class RfbError(Exception):
    """The VNC server refused us, or spoke something else than RFB 3.8."""


@dataclass(frozen=True)
class Area:
    """A rectangle of the framebuffer."""

    x: int
    y: int
    width: int
    height: int

    def union(self, other: Area) -> Area:
        x, y = min(self.x, other.x), min(self.y, other.y)
        right = max(self.x + self.width, other.x + other.width)
        bottom = max(self.y + self.height, other.y + other.height)
        return Area(x, y, right - x, bottom - y)


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """DES of the 16-byte challenge with the password's first 8 bytes, bits of each reversed."""
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


class RfbClient:
    """One RFB connection: ``client = await RfbClient.connect(host, port)``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.width = 0
        self.height = 0
        self.name = ""
        #: ``width * height`` pixels of 4 bytes (R, G, B, padding), row by row.
        self.framebuffer = bytearray()

    @classmethod
    async def connect(
        cls, host: str, port: int, password: str | None = None, within: float = 10.0
    ) -> RfbClient:
        """Connect, authenticate, and agree on the pixel format and encodings."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), within)
        client = cls(reader, writer)
        try:
            await asyncio.wait_for(client._handshake(password), within)
        except BaseException:
            await client.close()
            raise
        return client

    async def _handshake(self, password: str | None) -> None:
        read = self._reader.readexactly
        version = await read(12)
        if not version.startswith(b"RFB 003."):
            raise RfbError(f"not a VNC server: {version!r}")
        self._writer.write(VERSION)
        count = (await read(1))[0]
        if count == 0:
            (length,) = struct.unpack(">I", await read(4))
            raise RfbError((await read(length)).decode(errors="replace"))
        offered = set(await read(count))
        if SECURITY_VNC in offered and password:
            self._writer.write(bytes([SECURITY_VNC]))
            self._writer.write(vnc_auth_response(password, await read(16)))
        elif SECURITY_NONE in offered:
            self._writer.write(bytes([SECURITY_NONE]))
        else:
            raise RfbError(f"no usable security type in {sorted(offered)}")
        (result,) = struct.unpack(">I", await read(4))
        if result != 0:
            raise RfbError("VNC authentication failed")
        self._writer.write(b"\x01")  # ClientInit: shared
        self.width, self.height = struct.unpack(">HH", await read(4))
        await read(16)  # the server's pixel format: we set ours
        (length,) = struct.unpack(">I", await read(4))
        self.name = (await read(length)).decode(errors="replace")
        self.framebuffer = bytearray(self.width * self.height * BYTES_PER_PIXEL)
        self._writer.write(b"\x00\x00\x00\x00" + PIXEL_FORMAT)  # SetPixelFormat
        self._writer.write(struct.pack(">BxHii", 2, 2, COPY_RECT, RAW))  # SetEncodings
        await self.request_update(incremental=False)

    async def request_update(self, *, incremental: bool = True) -> None:
        """FramebufferUpdateRequest for the whole screen."""
        self._writer.write(struct.pack(">BBHHHH", 3, incremental, 0, 0, self.width, self.height))
        await self._writer.drain()

    async def next_update(self) -> Area:
        """Apply the next FramebufferUpdate; the area it changed (server messages between are
        skipped). Raises :class:`asyncio.IncompleteReadError` when the server hangs up."""
        read = self._reader.readexactly
        while True:
            kind = (await read(1))[0]
            if kind == 0:
                return await self._framebuffer_update()
            if kind == 1:  # SetColourMapEntries (not with true colour, but skip it)
                _, _, count = struct.unpack(">xHH", await read(5))
                await read(6 * count)
            elif kind == 2:  # Bell
                continue
            elif kind == 3:  # ServerCutText
                (length,) = struct.unpack(">3xI", await read(7))
                await read(length)
            else:
                raise RfbError(f"unknown server message {kind}")

    async def _framebuffer_update(self) -> Area:
        read = self._reader.readexactly
        (count,) = struct.unpack(">xH", await read(3))
        changed: Area | None = None
        stride = self.width * BYTES_PER_PIXEL
        for _ in range(count):
            x, y, w, h, encoding = struct.unpack(">HHHHi", await read(12))
            if encoding == RAW:
                data = await read(w * h * BYTES_PER_PIXEL)
                row = w * BYTES_PER_PIXEL
                for line in range(h):
                    start = (y + line) * stride + x * BYTES_PER_PIXEL
                    self.framebuffer[start : start + row] = data[line * row : (line + 1) * row]
            elif encoding == COPY_RECT:
                sx, sy = struct.unpack(">HH", await read(4))
                row = w * BYTES_PER_PIXEL
                source = [
                    bytes(
                        self.framebuffer[
                            (sy + i) * stride + sx * BYTES_PER_PIXEL : (sy + i) * stride
                            + sx * BYTES_PER_PIXEL
                            + row
                        ]
                    )
                    for i in range(h)
                ]
                for i, line_data in enumerate(source):
                    start = (y + i) * stride + x * BYTES_PER_PIXEL
                    self.framebuffer[start : start + row] = line_data
            else:
                raise RfbError(f"unexpected encoding {encoding}")
            area = Area(x, y, w, h)
            changed = area if changed is None else changed.union(area)
        return changed if changed is not None else Area(0, 0, 0, 0)

    def rgb(self, area: Area) -> bytes:
        """The pixels of ``area`` as packed RGB rows."""
        stride = self.width * BYTES_PER_PIXEL
        rows = bytearray()
        for line in range(area.y, area.y + area.height):
            start = line * stride + area.x * BYTES_PER_PIXEL
            rows += self.framebuffer[start : start + area.width * BYTES_PER_PIXEL]
        out = bytearray(area.width * area.height * 3)
        out[0::3] = rows[0::4]
        out[1::3] = rows[1::4]
        out[2::3] = rows[2::4]
        return bytes(out)

    async def pointer(self, x: int, y: int, mask: int) -> None:
        """PointerEvent: the button mask (bit 0 left ... bit 4 wheel down) at ``x``, ``y``."""
        x = max(0, min(x, self.width - 1))
        y = max(0, min(y, self.height - 1))
        self._writer.write(struct.pack(">BBHH", 5, mask & 0xFF, x, y))
        await self._writer.drain()

    async def key(self, keysym: int, down: bool) -> None:
        """KeyEvent: an X11 keysym pressed or released."""
        self._writer.write(struct.pack(">BBxxI", 4, bool(down), keysym & 0xFFFFFFFF))
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


__all__ = ["Area", "RfbClient", "RfbError", "vnc_auth_response"]
