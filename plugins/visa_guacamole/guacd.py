"""An asyncio client of guacd: the handshake, then whole instructions both ways.

The handshake is guacamole-common 1.5's (ConfiguredGuacamoleSocket): ``select``, ``args`` in
reply, then ``size``, ``audio``, ``video``, ``image`` and ``connect`` with one value per name
asked for, and ``ready,<connection id>`` back. An ``error`` instruction, the end of the stream or
a timeout during the handshake is a :class:`~visa_platform.desktop.protocol.DesktopConnectError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from visa_guacamole.stream import InstructionStream, open_stream
from visa_guacamole.wire import WireError, encode, parse, split
from visa_platform.desktop.protocol import DesktopConnectError

log = logging.getLogger("visa_guacamole")

#: guacamole-common's InetGuacamoleSocket: connect and read timeout.
TIMEOUT = 15.0
#: The newest protocol version we speak; guacd's own version is answered with the older one.
OUR_VERSION = (1, 5, 0)
DISCONNECT = encode("disconnect")


@dataclass(frozen=True)
class Handshake:
    """What to say to guacd: ``select`` (a protocol, or ``$id`` to join) and the parameters."""

    select: str
    parameters: Mapping[str, str]
    width: int
    height: int
    dpi: int = 96
    image_types: tuple[str, ...] = ("image/png",)


def _version_answer(offered: str) -> str:
    try:
        server = tuple(int(p) for p in offered.removeprefix("VERSION_").split("_"))
    except ValueError:
        return "VERSION_1_5_0"
    chosen = min(server, OUR_VERSION)
    return "VERSION_" + "_".join(str(p) for p in chosen)


class GuacdConnection:
    """An open guacd connection (a :class:`~visa_platform.desktop.protocol.RemoteDesktop`)."""

    def __init__(self, stream: InstructionStream, connection_id: str, early: str) -> None:
        self._stream = stream
        self._connection_id = connection_id
        self._closed = False
        # the browser's tunnel learns its id from the first instruction (opcode "")
        self._pending = [encode("", str(uuid.uuid4()))] + ([early] if early else [])

    @property
    def connection_id(self) -> str:
        return self._connection_id

    async def receive(self) -> str | None:
        """The next run of whole instructions from guacd, or ``None`` when it hung up."""
        if self._pending:
            return self._pending.pop(0)
        if self._closed:
            return None
        try:
            return await self._stream.read()
        except WireError as exc:
            raise DesktopConnectError(f"guacd sent garbage: {exc}") from exc

    async def send(self, data: str | bytes) -> None:
        if self._closed:
            raise DesktopConnectError("the guacd connection is closed")
        await self._stream.write(data.encode() if isinstance(data, str) else data)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        transport = self._stream.transport
        with contextlib.suppress(Exception):
            if not transport.is_closing():
                transport.write(DISCONNECT.encode())
        transport.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._stream.closed(), 1)


async def connect(
    host: str, port: int, handshake: Handshake, seconds: float = TIMEOUT
) -> GuacdConnection:
    """Open a connection to guacd at ``host:port`` and complete the handshake."""
    try:
        stream = await asyncio.wait_for(open_stream(host, port), seconds)
    except (OSError, TimeoutError) as exc:
        raise DesktopConnectError(f"guacd at {host}:{port} is unreachable: {exc!r}") from exc
    queue: list[str] = []

    async def expect(opcode: str) -> list[str]:
        while not queue:
            text = await asyncio.wait_for(stream.read(), seconds)
            if text is None:
                raise DesktopConnectError(f"guacd closed the connection before {opcode!r}")
            queue.extend(split(text))
        elements = parse(queue.pop(0))
        if elements[0] == "error":
            raise DesktopConnectError(f"guacd refused: {elements[1:]}")
        if elements[0] != opcode:
            raise DesktopConnectError(f"guacd sent {elements[0]!r} instead of {opcode!r}")
        return elements

    try:
        await stream.write(encode("select", handshake.select).encode())
        names = (await expect("args"))[1:]
        values = [
            _version_answer(name)
            if i == 0 and name.startswith("VERSION_")
            else handshake.parameters.get(name, "")
            for i, name in enumerate(names)
        ]
        await stream.write(
            (
                encode("size", handshake.width, handshake.height, handshake.dpi)
                + encode("audio")
                + encode("video")
                + encode("image", *handshake.image_types)
                + encode("connect", *values)
            ).encode()
        )
        ready = await expect("ready")
        if len(ready) < 2 or not ready[1]:
            raise DesktopConnectError("guacd's ready carries no connection id")
    except (OSError, TimeoutError, WireError, DesktopConnectError) as exc:
        stream.transport.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(stream.closed(), 1)
        if isinstance(exc, DesktopConnectError):
            raise
        raise DesktopConnectError(f"guacd handshake failed: {exc!r}") from exc
    except BaseException:
        stream.transport.close()
        raise
    # instructions that came with 'ready' belong to the display stream
    return GuacdConnection(stream, ready[1], "".join(queue))


__all__ = ["TIMEOUT", "GuacdConnection", "Handshake", "connect"]
