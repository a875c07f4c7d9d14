"""The ``vnc`` desktop protocol: noVNC in the browser, a VNC server on the instance.

The relay authenticates to the VNC server itself (VNC authentication with the instance's
password, from ``DesktopTarget.extra["vncPassword"]``) and offers the browser an RFB 3.8
handshake with no authentication: the browser never sees the instance's secret. After the
handshake, bytes flow both ways; the browser's are split into whole RFB client messages so that
key and pointer events can be told apart (and dropped by the session rules).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from visa_platform.config import Settings
from visa_platform.desktop.protocol import (
    BadClientFrame,
    ClientInstruction,
    CloseWhy,
    DesktopConnectError,
    DesktopTarget,
    Frame,
    InstructionKind,
)
from visa_vnc import messages as m
from visa_vnc.rfb import NONE, VERSION, RfbError, authenticate

#: Client messages larger than this are refused (clipboard text is the large one).
MAX_CLIENT_MESSAGE = 1024 * 1024
#: Bytes read from the VNC server at a time (one websocket frame each).
CHUNK = 64 * 1024
TIMEOUT = 10.0

KINDS = {
    m.KEY_EVENT: InstructionKind.KEYBOARD,
    m.POINTER_EVENT: InstructionKind.MOUSE,
    m.QEMU_CLIENT_MESSAGE: InstructionKind.KEYBOARD,  # extended key events
    # resizing the remote screen changes everyone's desktop: the owner's to ask for
    m.SET_DESKTOP_SIZE: InstructionKind.OWNER_ONLY,
}
REASONS = {
    CloseWhy.ENDED: "The desktop session ended",
    CloseWhy.DENIED: "Access denied",
    CloseWhy.OWNER_AWAY: "The owner is not connected",
    CloseWhy.REVOKED: "Access revoked",
    CloseWhy.UNREACHABLE: "The desktop cannot be reached",
    CloseWhy.BAD_INPUT: "Invalid RFB data",
    CloseWhy.IDLE: "Disconnected after inactivity",
}


class VncClientReader:
    """The browser's RFB stream as whole messages, handshake included (forwarded as OTHER)."""

    def __init__(self) -> None:
        self._stream = m.ClientStream(MAX_CLIENT_MESSAGE)

    def feed(self, frame: Frame) -> list[ClientInstruction]:
        if isinstance(frame, str):
            raise BadClientFrame("RFB travels in binary frames")
        try:
            parts = self._stream.feed(frame)
        except m.RfbStreamError as exc:
            raise BadClientFrame(str(exc)) from exc
        out = []
        for kind, data in parts:
            if kind is m.Phase.VERSION and data != VERSION:
                raise BadClientFrame(f"unsupported RFB version {data!r}: 3.8 only")
            if kind is m.Phase.SECURITY and data[0] != NONE:
                raise BadClientFrame(f"security type {data[0]} was not offered")
            # the handshake is forwarded to the connection, which answers it for the server
            instruction_kind = (
                InstructionKind.OTHER
                if isinstance(kind, m.Phase)
                else KINDS.get(kind, InstructionKind.OTHER)
            )
            out.append(ClientInstruction(data, instruction_kind))
        return out


class VncConnection:
    """One browser's RFB connection to the VNC server (the server runs in shared mode)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        server_init: bytes,
        connection_id: str,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._server_init = server_init
        self._connection_id = connection_id
        self._to_browser: asyncio.Queue[bytes] = asyncio.Queue()
        self._to_browser.put_nowait(VERSION)
        self._phase = m.Phase.VERSION

    @property
    def connection_id(self) -> str:
        return self._connection_id

    async def receive(self) -> Frame | None:
        if not self._to_browser.empty() or self._phase is not m.Phase.MESSAGES:
            return await self._to_browser.get()
        try:
            data = await self._reader.read(CHUNK)
        except OSError:
            return None
        return data or None

    async def send(self, data: Frame) -> None:
        if isinstance(data, str):
            data = data.encode()
        if self._phase is m.Phase.VERSION:
            self._phase = m.Phase.SECURITY
            self._to_browser.put_nowait(bytes([1, NONE]))  # one security type: none
        elif self._phase is m.Phase.SECURITY:
            self._phase = m.Phase.CLIENT_INIT
            self._to_browser.put_nowait(b"\0\0\0\0")  # security result: OK
        elif self._phase is m.Phase.CLIENT_INIT:
            # the browser's shared flag is ignored: the relay's connection is always shared
            self._to_browser.put_nowait(self._server_init)
            self._phase = m.Phase.MESSAGES
        else:
            self._writer.write(data)
            await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


async def read_server_init(reader: asyncio.StreamReader) -> bytes:
    """ServerInit: size, pixel format and the desktop name (RFC 6143 §7.3.2)."""
    header = await reader.readexactly(24)
    name = await reader.readexactly(int.from_bytes(header[20:24], "big"))
    return header + name


class VncProtocol:
    """A VNC server at the instance's ``VNC`` port (5900)."""

    name = "vnc"
    port_protocol = "VNC"
    default_port = 5900
    #: RFB has no message a relay may slip between the server's bytes: the socket's own
    #: websocket pings keep it alive.
    keepalive: Frame | None = None
    #: The VNC server (and the X session) outlive their clients.
    persistent_sessions = True

    def __init__(self, settings: Settings, timeout: float = TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout

    async def open(self, target: DesktopTarget) -> VncConnection:
        password = target.extra.get("vncPassword")
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(target.host, target.port)
                await authenticate(reader, writer, password)
                writer.write(b"\x01")  # ClientInit: shared, other viewers stay connected
                await writer.drain()
                server_init = await read_server_init(reader)
        except (OSError, TimeoutError, RfbError, asyncio.IncompleteReadError) as exc:
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            reason = (
                f"no answer within {self.timeout:g} s"
                if isinstance(exc, TimeoutError)
                else str(exc) or type(exc).__name__
            )
            raise DesktopConnectError(f"VNC server {target.host}:{target.port}: {reason}") from exc
        return VncConnection(
            reader, writer, server_init, target.connection_id or f"vnc-{uuid.uuid4().hex}"
        )

    def client_reader(self) -> VncClientReader:
        return VncClientReader()

    def close_reason(self, why: CloseWhy) -> str:
        return REASONS[why]


__all__ = ["VncConnection", "VncProtocol"]
