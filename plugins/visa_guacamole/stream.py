"""A TCP connection to guacd that hands out whole instructions: the relay's hot path.

An :class:`asyncio.BufferedProtocol`: the socket is read straight into one buffer per connection,
:func:`~visa_guacamole.wire.scan` finds where the last whole instruction ends, and the bytes up to
there are decoded once into the text the browser gets. What follows (part of an instruction) moves
to the front of the buffer for the next read. Per byte relayed that is the kernel's copy and one
decode; a ``StreamReader`` with a text scanner made five copies and paused and resumed the socket
on every read.

Runs of whole instructions wait in a queue until the relay takes them all at once. Reading pauses
while more than :data:`HIGH_WATER` characters wait, and resumes when the relay has taken them.
Writing waits while the transport's buffer is over its own high-water mark.
"""

from __future__ import annotations

import asyncio
import collections

from visa_guacamole.wire import MAX_INSTRUCTION, WireError, scan

#: The most one read asks of the socket; the buffer starts smaller, grows to this under load and
#: shrinks again when the reads do. Bigger reads make bigger frames, fewer per MB (the app sets
#: glibc's allocator for them: visa_platform.allocator).
READ_SIZE = 1024 * 1024
#: Characters of whole instructions waiting for the relay before guacd's socket stops being read
#: (two reads' worth: one full read must not pause it every time).
HIGH_WATER = 2 * READ_SIZE
FIRST_READ_SIZE = 16 * 1024


class InstructionStream(asyncio.BufferedProtocol):
    """One guacd connection: :meth:`read` whole instructions, :meth:`write` the browser's."""

    def __init__(self) -> None:
        self._buffer = bytearray(FIRST_READ_SIZE)
        self._read_size = FIRST_READ_SIZE
        self._end = 0  # bytes received and not yet handed out: an unfinished instruction
        self._scan = 0  # where the next element of that instruction starts
        self._ready: collections.deque[str] = collections.deque()
        self._queued = 0
        self._error: Exception | None = None
        self._ended = False
        self._reading_paused = False
        self._writing_paused = False
        self._reader: asyncio.Future[None] | None = None
        self._drainers: list[asyncio.Future[None]] = []
        self._transport: asyncio.Transport | None = None
        self._lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -- asyncio.BufferedProtocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        wanted = self._end + self._read_size
        if not wanted <= len(self._buffer) <= 2 * wanted:  # grown under load, shrunk after
            # with room for the next unfinished instruction, so it is not resized every read
            resized = bytearray(wanted + self._read_size // 2)
            resized[: self._end] = memoryview(self._buffer)[: self._end]
            self._buffer = resized
        return memoryview(self._buffer)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        if self._error is not None:
            return
        if nbytes == len(self._buffer) - self._end and self._read_size < READ_SIZE:
            self._read_size *= 2  # the socket had more than the buffer could take
        elif nbytes < self._read_size // 4 and self._read_size > FIRST_READ_SIZE:
            self._read_size //= 2  # quieter again: an idle session keeps a small buffer
        self._end += nbytes
        view = memoryview(self._buffer)
        try:
            complete, self._scan = scan(self._buffer, self._scan, self._end)
            text = str(view[:complete], "utf-8") if complete > 0 else ""
        except ValueError as exc:  # not an instruction stream, or not UTF-8
            self._fail(WireError(str(exc)))
            return
        if text:
            rest = self._end - complete
            view[:rest] = view[complete : self._end]
            self._end, self._scan = rest, self._scan - complete
            self._queue(text)
        if self._end > MAX_INSTRUCTION:
            self._fail(WireError("instruction too long"))

    def eof_received(self) -> bool:
        self._ended = True
        self._wake_reader()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        if exc is not None and self._error is None:
            self._error = exc
        self._wake_reader()
        self._writing_paused = False
        self._wake_drainers(exc or ConnectionResetError("guacd closed the connection"))
        if not self._lost.done():
            self._lost.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_drainers(None)

    # -- for the relay ---------------------------------------------------------------------

    async def read(self) -> str | None:
        """Every whole instruction received so far (waits for one); ``None`` at the end.

        :class:`~visa_guacamole.wire.WireError` when guacd sent something that is not a
        Guacamole instruction stream; the connection's own error when it broke.
        """
        while not self._ready:
            if self._error is not None:
                raise self._error
            if self._ended:
                return None
            self._reader = asyncio.get_running_loop().create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        text = self._ready[0] if len(self._ready) == 1 else "".join(self._ready)
        self._ready.clear()
        self._queued = 0
        if self._reading_paused:
            self._reading_paused = False
            if self._transport is not None and not self._transport.is_closing():
                self._transport.resume_reading()
        return text

    async def write(self, data: bytes) -> None:
        """Send ``data``; waits while the socket's buffer is full."""
        if self._transport is None or self._transport.is_closing():
            raise ConnectionResetError("the guacd connection is closed")
        self._transport.write(data)
        if self._writing_paused:
            waiter = asyncio.get_running_loop().create_future()
            self._drainers.append(waiter)
            await waiter

    async def closed(self) -> None:
        """Returns once the connection is closed."""
        await asyncio.shield(self._lost)

    @property
    def capacity(self) -> int:
        """Bytes the read buffer holds now (it follows the size of the reads)."""
        return len(self._buffer)

    @property
    def transport(self) -> asyncio.Transport:
        assert self._transport is not None
        return self._transport

    def _queue(self, text: str) -> None:
        self._ready.append(text)
        self._queued += len(text)
        if self._queued > HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            if self._transport is not None:
                self._transport.pause_reading()
        self._wake_reader()

    def _fail(self, exc: WireError) -> None:
        """guacd broke the protocol: what was queued is still handed out, then ``exc``."""
        self._error = exc
        if self._transport is not None:
            self._transport.pause_reading()
        self._wake_reader()

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    def _wake_drainers(self, exc: Exception | None) -> None:
        drainers, self._drainers = self._drainers, []
        for waiter in drainers:
            if waiter.done():
                continue
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)


async def open_stream(host: str, port: int) -> InstructionStream:
    """Connect to guacd at ``host:port``."""
    loop = asyncio.get_running_loop()
    _, stream = await loop.create_connection(InstructionStream, host, port)
    return stream


__all__ = ["HIGH_WATER", "READ_SIZE", "InstructionStream", "open_stream"]
