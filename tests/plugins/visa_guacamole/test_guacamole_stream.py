"""The guacd connection's reader: whole instructions out, whatever the socket's reads."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from visa_guacamole import stream as stream_module
from visa_guacamole.stream import InstructionStream, open_stream
from visa_guacamole.wire import MAX_INSTRUCTION, WireError, encode, split

Peer = Callable[[asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def connected(peer: Peer) -> AsyncIterator[InstructionStream]:
    """A stream to a loopback server that runs ``peer`` on the accepted socket."""
    handlers: list[asyncio.Task[None]] = []

    async def accepted(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await peer(writer)
        finally:
            writer.close()

    server = await asyncio.start_server(accepted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stream = await open_stream("127.0.0.1", port)
    try:
        yield stream
    finally:
        stream.transport.close()
        await stream.closed()
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        server.close()
        await server.wait_closed()


async def read_all(stream: InstructionStream) -> list[str]:
    out = []
    while (text := await stream.read()) is not None:
        assert text.endswith(";") and "".join(split(text)) == text
        out.append(text)
    return out


def instructions(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    values = ["", "é", "😀" * 3, "A" * 6048, "a;b,c.d", "€" * 700]
    opcodes = ["blob", "sync", "img"]
    return [encode(rng.choice(opcodes), *rng.sample(values, 3)) for _ in range(count)]


async def test_any_cut_of_the_byte_stream_comes_out_whole() -> None:
    sent = instructions(1, 400)
    data = "".join(sent).encode()

    async def peer(writer: asyncio.StreamWriter) -> None:
        rng = random.Random(2)
        position = 0
        while position < len(data):
            size = rng.choice([1, 2, 3, 7, 500, 6000, 70_000])
            writer.write(data[position : position + size])
            position += size
            await writer.drain()
            if rng.random() < 0.2:
                await asyncio.sleep(0.001)  # let the reader see a partial instruction
        writer.close()

    async with connected(peer) as stream:
        received = await read_all(stream)
    assert "".join(received) == "".join(sent)


async def test_what_was_queued_comes_out_before_the_garbage_error() -> None:
    async def peer(writer: asyncio.StreamWriter) -> None:
        writer.write((encode("sync", 1) + encode("sync", 2)).encode())
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(b"3.abc?")
        await writer.drain()
        await asyncio.sleep(1)

    async with connected(peer) as stream:
        await asyncio.sleep(0.3)  # both reads arrived before the relay asks
        assert await stream.read() == encode("sync", 1) + encode("sync", 2)
        with pytest.raises(WireError, match="terminator"):
            await stream.read()


async def test_invalid_utf8_is_an_error() -> None:
    async def peer(writer: asyncio.StreamWriter) -> None:
        writer.write(b"4.sync,1.\xc3\x28;")
        await writer.drain()
        await asyncio.sleep(1)

    async with connected(peer) as stream:
        with pytest.raises(WireError):
            await stream.read()


async def test_an_overlong_instruction_is_an_error() -> None:
    async def peer(writer: asyncio.StreamWriter) -> None:
        writer.write(f"4.blob,{MAX_INSTRUCTION + 10}.".encode() + b"A" * (MAX_INSTRUCTION + 5))
        await writer.drain()
        await asyncio.sleep(1)

    async with connected(peer) as stream:
        with pytest.raises(WireError, match="too long"):
            await stream.read()


async def test_a_partial_instruction_at_the_end_is_dropped() -> None:
    async def peer(writer: asyncio.StreamWriter) -> None:
        writer.write((encode("sync", 1) + "4.sync,3.12").encode())
        writer.close()

    async with connected(peer) as stream:
        assert await read_all(stream) == [encode("sync", 1)]


async def test_reading_pauses_while_too_much_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """guacd is not read while the relay lags: what waits stays near the high-water mark."""
    monkeypatch.setattr(stream_module, "HIGH_WATER", 64 * 1024)
    blob = encode("blob", 1, "A" * 6000)
    total = 2000

    async def peer(writer: asyncio.StreamWriter) -> None:
        writer.write(blob.encode() * total)
        await writer.drain()
        writer.close()

    async with connected(peer) as stream:
        await asyncio.sleep(0.3)  # the peer writes everything it can; nobody reads
        first = await stream.read()
        assert first is not None
        assert len(first) < 64 * 1024 + stream_module.READ_SIZE + len(blob)
        rest = await read_all(stream)
    assert len(first) + sum(map(len, rest)) == len(blob) * total


async def test_writes_reach_the_peer() -> None:
    got = asyncio.get_running_loop().create_future()

    async def echo_server() -> tuple[asyncio.Server, int]:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            got.set_result(await reader.readexactly(1_000_000))
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        return server, server.sockets[0].getsockname()[1]

    server, port = await echo_server()
    stream = await open_stream("127.0.0.1", port)
    await stream.write(b"x" * 1_000_000)  # more than the transport buffers before pausing
    assert await asyncio.wait_for(got, 5) == b"x" * 1_000_000
    assert await stream.read() is None
    stream.transport.close()
    await stream.closed()
    server.close()
    await server.wait_closed()


async def test_the_buffer_grows_under_load_and_shrinks_when_idle() -> None:
    blob = encode("blob", 1, "A" * 6000).encode()
    quiet = asyncio.Event()

    async def peer(writer: asyncio.StreamWriter) -> None:
        writer.write(blob * 300)  # about 1.8 MB at once
        await writer.drain()
        await quiet.wait()
        for i in range(40):  # then small instructions, one at a time
            writer.write(encode("sync", i).encode())
            await writer.drain()
            await asyncio.sleep(0.005)

    async with connected(peer) as stream:
        assert stream.capacity == stream_module.FIRST_READ_SIZE
        received = 0
        while received < len(blob) * 300:
            received += len((await stream.read()) or "")
        assert stream.capacity >= 8 * stream_module.FIRST_READ_SIZE
        quiet.set()
        while "4.sync,2.39;" not in ((await stream.read()) or ""):
            pass
        assert stream.capacity <= 2 * stream_module.FIRST_READ_SIZE


async def test_a_steady_stream_reuses_one_buffer() -> None:
    """Reads cut instructions anywhere; the buffer is not reallocated for each of them."""
    rng = random.Random(3)
    data = "".join(encode("blob", 1, "A" * rng.randint(100, 8000)) for _ in range(3000)).encode()
    stream = InstructionStream()
    resized, position, out = 0, 0, 0
    while position < len(data):
        before = stream.capacity
        view = stream.get_buffer(-1)
        resized += stream.capacity != before
        size = min(len(view), len(data) - position)  # a loaded socket fills the buffer
        view[:size] = data[position : position + size]
        position += size
        del view
        stream.buffer_updated(size)
        out += len(await stream.read() or "")
    assert out == len(data)
    doublings = (stream_module.READ_SIZE // stream_module.FIRST_READ_SIZE).bit_length() - 1
    assert resized <= doublings + 1  # 16 KiB doubling to 1 MiB, then the same buffer
