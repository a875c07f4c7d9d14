"""A fake guacd: the Guacamole protocol over TCP on 127.0.0.1, for relay and session tests.

guacd cannot be installed here (spec/test-rigs.md §2a), so this double speaks its wire protocol:

* the handshake of guacd 1.5/1.6: ``select`` (a protocol name, or ``$<id>`` to join a running
  connection), ``args`` with ``VERSION_1_5_0`` first, then the client's ``size``, ``audio``,
  ``video``, ``image``, ``timezone``, ``name`` ... and ``connect`` with one value per ``args``
  element, answered by ``ready,$<connection id>``;
* an unknown protocol or connection id closes the socket without a word, as guacd does;
* the display is generated (a solid PNG): ``name``, ``size``, ``img`` + ``blob`` (at most 6048
  base64 characters each) + ``end``, then ``sync``; every joining user gets the current frame;
* or, with ``FakeGuacd(vnc_backed=True)``, a ``vnc`` connection shows a real VNC desktop, as
  guacd's VNC plugin does: the fake connects to the ``hostname`` and ``port`` (and ``password``)
  of the ``connect`` parameters with :class:`~visa_platform.testing.rfb_client.RfbClient`, turns
  every framebuffer update into a PNG ``img`` stream of the changed area + ``sync``, and the
  users' ``mouse,x,y,mask`` and ``key,keysym,pressed`` into RFB PointerEvent and KeyEvent (an
  unreachable VNC server: ``ready`` then ``error,...,519``, as guacd);
* a connection ends when its last user leaves (``disconnect`` or end of stream).

Everything a client sends after ``connect`` is recorded on its :class:`FakeConnection`
(``received``) so tests can check what the relay forwarded; ``FakeConnection.send`` pushes
instructions to every user, ``drop`` cuts them off mid-session. Fault switches on
:class:`FakeGuacd`: ``handshake_delay``, ``refuse_connections`` and ``upstream_unreachable`` (real
guacd answers ``ready`` and then ``error,Aborted. See logs.,519`` when the desktop server is
down).
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import contextlib
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from visa_platform.testing.rfb_client import Area, RfbClient, RfbError

PROTOCOL_VERSION = "VERSION_1_5_0"
#: The parameter names the fake asks for (guacd's VNC plugin asks for about fifty).
DEFAULT_ARG_NAMES = (
    "hostname",
    "port",
    "username",
    "password",
    "server-layout",
    "ignore-cert",
    "color-depth",
    "read-only",
)
SUPPORTED_PROTOCOLS = frozenset({"vnc", "rdp", "test"})
BLOB_CHARS = 6048
MAX_INSTRUCTION = 1024 * 1024
UPSTREAM_NOT_FOUND = 519
UPSTREAM_ERROR = 515
#: Seconds between two framebuffer update requests of a VNC-backed connection (at most 20/s).
VNC_FRAME_INTERVAL = 0.05


def encode(opcode: str, *args: object) -> str:
    """One instruction: ``LEN.VALUE`` elements (lengths in code points), ``,``-separated, ``;``."""
    return ",".join(f"{len(s)}.{s}" for s in (opcode, *map(str, args))) + ";"


class WireError(ValueError):
    """The peer sent something that is not a Guacamole instruction."""


class InstructionReader:
    """Splits a UTF-8 byte stream into instructions (lists of elements)."""

    def __init__(self, max_length: int = MAX_INSTRUCTION) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._max = max_length

    def feed(self, data: bytes) -> list[list[str]]:
        self._buffer += self._decoder.decode(data)
        out: list[list[str]] = []
        start = 0
        buffer = self._buffer
        while True:
            elements: list[str] = []
            pos = start
            complete = False
            while True:
                dot = buffer.find(".", pos)
                if dot < 0:
                    break
                digits = buffer[pos:dot]
                if not digits.isdigit():
                    raise WireError(f"bad element length {digits[:20]!r}")
                end = dot + 1 + int(digits)
                if end >= len(buffer):
                    break
                elements.append(buffer[dot + 1 : end])
                pos = end + 1
                if buffer[end] == ";":
                    complete = True
                    break
                if buffer[end] != ",":
                    raise WireError(f"bad element terminator {buffer[end]!r}")
            if not complete:
                break
            out.append(elements)
            start = pos
        self._buffer = buffer[start:]
        if len(self._buffer) > self._max:
            raise WireError("instruction too long")
        return out


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def rgb_png(width: int, height: int, rgb: bytes, level: int = 1) -> bytes:
    """A PNG of packed RGB rows (``width * height * 3`` bytes), written by hand."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    row = width * 3
    raw = b"".join(b"\x00" + rgb[i * row : (i + 1) * row] for i in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, level))
        + chunk(b"IEND", b"")
    )


def image_instructions(stream: int, png: bytes, x: int = 0, y: int = 0) -> list[str]:
    """``img`` + ``blob``s + ``end`` drawing ``png`` on the default layer, as guacd sends it."""
    data = base64.b64encode(png).decode()
    out = [encode("img", stream, 14, 0, "image/png", x, y)]
    out += [
        encode("blob", stream, data[i : i + BLOB_CHARS]) for i in range(0, len(data), BLOB_CHARS)
    ]
    out.append(encode("end", stream))
    return out


@dataclass
class Handshake:
    """What one client said during its handshake."""

    selected: str
    joined: bool
    client_info: dict[str, list[str]] = field(default_factory=dict)
    version: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    connection_id: str | None = None


class _User:
    def __init__(self, writer: asyncio.StreamWriter, handshake: Handshake) -> None:
        self.writer = writer
        self.handshake = handshake

    def write(self, text: str) -> None:
        if not self.writer.is_closing():
            self.writer.write(text.encode())


@dataclass(eq=False)
class FakeConnection:
    """One remote-desktop connection (a guacd process) and the users joined to it."""

    id: str
    protocol: str
    parameters: dict[str, str]
    width: int
    height: int
    #: Every instruction users sent after their handshake: (user index, elements).
    received: list[tuple[int, list[str]]] = field(default_factory=list)
    ended: bool = False
    #: The VNC desktop behind a VNC-backed connection (``None``: a generated display).
    rfb: RfbClient | None = field(default=None, repr=False)
    #: Framebuffer updates turned into images so far (VNC-backed connections).
    updates: int = 0
    _users: list[_User] = field(default_factory=list, repr=False)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)
    _stream: int = 1
    _pump: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def user_count(self) -> int:
        return len(self._users)

    def opcodes(self) -> list[str]:
        """The opcodes received so far, in order."""
        return [elements[0] for _, elements in self.received]

    def frame(self) -> list[str]:
        """The instructions that draw the current display from scratch."""
        if self.rfb is not None:
            area = Area(0, 0, self.rfb.width, self.rfb.height)
            png = rgb_png(area.width, area.height, self.rfb.rgb(area))
            name = self.rfb.name
        else:
            png = solid_png(self.width, self.height, (0, 90, 160))
            name = f"fake-{self.protocol}"
        return [
            encode("name", name),
            encode("size", 0, self.width, self.height),
            *image_instructions(self._next_stream(), png),
            encode("sync", int(time.time() * 1000)),
        ]

    def _next_stream(self) -> int:
        self._stream = self._stream % 1000 + 1
        return self._stream

    async def _relay_input(self, instruction: list[str]) -> None:
        """A user's mouse or key instruction, as guacd's VNC plugin sends it on."""
        if self.rfb is None:
            return
        with contextlib.suppress(ValueError, IndexError, ConnectionError):
            if instruction[0] == "mouse":
                await self.rfb.pointer(
                    int(instruction[1]), int(instruction[2]), int(instruction[3])
                )
            elif instruction[0] == "key":
                await self.rfb.key(int(instruction[1]), instruction[2] == "1")

    async def _pump_updates(self) -> None:
        """Framebuffer updates to every user: a PNG of the changed area, then ``sync``."""
        rfb = self.rfb
        assert rfb is not None
        try:
            while True:
                await rfb.request_update()
                area = await rfb.next_update()
                if area.width and area.height:
                    png = await asyncio.to_thread(rgb_png, area.width, area.height, rfb.rgb(area))
                    self.updates += 1
                    await self.send(
                        *image_instructions(self._next_stream(), png, area.x, area.y),
                        encode("sync", int(time.time() * 1000)),
                    )
                    await self._notify()
                await asyncio.sleep(VNC_FRAME_INTERVAL)
        except (asyncio.IncompleteReadError, ConnectionError, RfbError):
            # the VNC server went away: guacd aborts the connection
            await self.send(encode("error", "Aborted. See logs.", UPSTREAM_ERROR))
            await self.drop()

    async def _close_desktop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self.rfb is not None:
            await self.rfb.close()

    async def send(self, *instructions: str) -> None:
        """Send ``instructions`` (already encoded) to every user, as one write each."""
        text = "".join(instructions)
        for user in list(self._users):
            user.write(text)
            with contextlib.suppress(ConnectionError):
                await user.writer.drain()

    async def drop(self) -> None:
        """Cut every user off without a word (guacd dying mid-session)."""
        for user in list(self._users):
            user.writer.close()

    async def wait_until(
        self, predicate: Callable[[FakeConnection], bool], within: float = 5
    ) -> None:
        """Wait until ``predicate(self)`` holds (checked whenever something arrives or leaves)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


class FakeGuacd:
    """A guacd double on ``127.0.0.1:<port>``: ``async with FakeGuacd() as guacd: guacd.port``."""

    def __init__(
        self,
        *,
        arg_names: Sequence[str] = DEFAULT_ARG_NAMES,
        width: int = 64,
        height: int = 48,
        vnc_backed: bool = False,
    ) -> None:
        self.arg_names = tuple(arg_names)
        #: ``vnc`` connections show the VNC server named in their parameters.
        self.vnc_backed = vnc_backed
        self.width = width
        self.height = height
        self.host = "127.0.0.1"
        self.port = 0
        self.connections: dict[str, FakeConnection] = {}
        self.handshakes: list[Handshake] = []
        #: Seconds to wait before answering ``select`` (a slow guacd).
        self.handshake_delay = 0.0
        #: Close every new socket at once (nothing listens on the instance's guacd port).
        self.refuse_connections = False
        #: Answer ``ready`` then ``error,...,519`` (the desktop server behind guacd is down).
        self.upstream_unreachable = False
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> FakeGuacd:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    @property
    def open_sockets(self) -> int:
        """Client sockets currently being served."""
        return len(self._tasks)

    def connection(self, connection_id: str) -> FakeConnection:
        return self.connections[connection_id]

    def only_connection(self) -> FakeConnection:
        """The single running connection (fails when there are none or several)."""
        (connection,) = self.connections.values()
        return connection

    async def wait_for_connection(self, within: float = 5) -> FakeConnection:
        """The first connection that exists (waiting for its handshake if needed)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: bool(self.connections))
        return next(iter(self.connections.values()))

    async def wait_until(self, predicate: Callable[[FakeGuacd], bool], within: float = 5) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _open_desktop(self, connection: FakeConnection) -> bool:
        """Connect a new ``vnc`` connection to its VNC server; False when it cannot."""
        parameters = connection.parameters
        try:
            rfb = await RfbClient.connect(
                parameters.get("hostname") or "127.0.0.1",
                int(parameters.get("port") or 5900),
                parameters.get("password") or None,
            )
        except (OSError, TimeoutError, ValueError, RfbError, asyncio.IncompleteReadError):
            return False
        try:
            await asyncio.wait_for(rfb.next_update(), 10)  # the whole screen, once
        except (OSError, TimeoutError, RfbError, asyncio.IncompleteReadError):
            await rfb.close()
            return False
        connection.rfb = rfb
        connection.width, connection.height = rfb.width, rfb.height
        return True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        try:
            if not self.refuse_connections:
                await self._serve(reader, writer)
        except (ConnectionError, WireError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:  # stop(): end quietly (asyncio logs cancelled handlers)
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)
            await self._notify()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire = InstructionReader()
        pending: list[list[str]] = []

        async def next_instruction() -> list[str] | None:
            while not pending:
                data = await reader.read(65536)
                if not data:
                    return None
                pending.extend(wire.feed(data))
            return pending.pop(0)

        select = await next_instruction()
        if select is None or select[0] != "select" or len(select) != 2:
            return
        if self.handshake_delay:
            await asyncio.sleep(self.handshake_delay)
        target = select[1]
        joining = target.startswith("$")
        if joining and target not in self.connections:
            return  # guacd: 'Connection "..." does not exist', socket closed
        if not joining and target not in SUPPORTED_PROTOCOLS:
            return  # guacd cannot load a client plugin for it
        handshake = Handshake(selected=target, joined=joining)
        writer.write(encode("args", PROTOCOL_VERSION, *self.arg_names).encode())
        await writer.drain()
        while True:
            instruction = await next_instruction()
            if instruction is None:
                return
            if instruction[0] == "connect":
                values = instruction[1:]
                handshake.version = values[0] if values else ""
                handshake.parameters = dict(zip(self.arg_names, values[1:], strict=False))
                break
            handshake.client_info[instruction[0]] = instruction[1:]
        self.handshakes.append(handshake)
        if joining:
            connection = self.connections[target]
        else:
            connection = FakeConnection(
                id=f"${uuid.uuid4()}",
                protocol=target,
                parameters=handshake.parameters,
                width=self.width,
                height=self.height,
            )
        handshake.connection_id = connection.id
        unreachable = self.upstream_unreachable
        if not unreachable and not joining and self.vnc_backed and target == "vnc":
            # before 'ready', so that the connection can be joined as soon as its id is known
            unreachable = not await self._open_desktop(connection)
        writer.write(encode("ready", connection.id).encode())
        if unreachable:
            writer.write(encode("error", "Aborted. See logs.", UPSTREAM_NOT_FOUND).encode())
            await writer.drain()
            return
        user = _User(writer, handshake)
        # the whole display first: nothing sent to the connection's users may come before it
        user.write("".join(connection.frame()))
        connection._users.append(user)
        if connection.rfb is not None and connection._pump is None:
            connection._pump = asyncio.get_running_loop().create_task(connection._pump_updates())
        self.connections[connection.id] = connection
        await self._notify()
        await connection._notify()
        index = len(self.handshakes) - 1
        try:
            await writer.drain()
            while (instruction := await next_instruction()) is not None:
                connection.received.append((index, instruction))
                await connection._relay_input(instruction)
                await connection._notify()
                if instruction[0] == "disconnect":
                    return
        finally:
            connection._users.remove(user)
            if not connection._users:
                connection.ended = True
                self.connections.pop(connection.id, None)
                await connection._close_desktop()
            await connection._notify()


__all__ = [
    "DEFAULT_ARG_NAMES",
    "PROTOCOL_VERSION",
    "FakeConnection",
    "FakeGuacd",
    "Handshake",
    "InstructionReader",
    "WireError",
    "encode",
    "image_instructions",
    "rgb_png",
    "solid_png",
]
