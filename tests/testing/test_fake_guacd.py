"""The fake guacd speaks guacd's handshake, joins, display stream and faults."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import zlib

import pytest

from visa_platform.testing.fake_guacd import (
    DEFAULT_ARG_NAMES,
    FakeGuacd,
    InstructionReader,
    WireError,
    encode,
    solid_png,
)


class Client:
    """A bare guacd client for these tests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.wire = InstructionReader()
        self.pending: list[list[str]] = []

    @classmethod
    async def open(cls, guacd: FakeGuacd) -> Client:
        return cls(*await asyncio.open_connection(guacd.host, guacd.port))

    def send(self, *instructions: str) -> None:
        self.writer.write("".join(instructions).encode())

    async def receive(self) -> list[str] | None:
        while not self.pending:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), 5)
            except ConnectionResetError:  # closed with our bytes unread
                return None
            if not data:
                return None
            self.pending.extend(self.wire.feed(data))
        return self.pending.pop(0)

    async def until(self, opcode: str) -> list[str]:
        while (instruction := await self.receive()) is not None:
            if instruction[0] == opcode:
                return instruction
        raise AssertionError(f"stream ended before {opcode}")

    async def handshake(self, select: str, **values: str) -> list[str] | None:
        self.send(encode("select", select))
        args = await self.receive()
        assert args is not None and args[0] == "args"
        self.send(
            encode("size", 1024, 768, 96),
            encode("audio"),
            encode("video"),
            encode("image", "image/png"),
            encode("connect", *(args[1:2] + [values.get(name, "") for name in args[2:]])),
        )
        return await self.receive()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def test_codec_counts_code_points_and_splits_anywhere() -> None:
    text = encode("key", "é€😀", 1) + encode("sync", 12)
    assert text.startswith("3.key,3.é€😀,1.1;")
    data = text.encode()
    wire = InstructionReader()
    got: list[list[str]] = []
    for i in range(len(data)):  # one byte at a time, splitting code points too
        got += wire.feed(data[i : i + 1])
    assert got == [["key", "é€😀", "1"], ["sync", "12"]]


def test_codec_refuses_garbage_and_oversized_instructions() -> None:
    with pytest.raises(WireError):
        InstructionReader().feed(b"x.abc;")
    with pytest.raises(WireError):
        InstructionReader().feed(b"3.abc!")
    with pytest.raises(WireError):
        InstructionReader(max_length=10).feed(b"100.aaaaaaaaaaaaaaaa")


def test_solid_png_is_a_valid_png() -> None:
    png = solid_png(3, 2, (1, 2, 3))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    idat = png.index(b"IDAT")
    length = int.from_bytes(png[idat - 4 : idat], "big")
    assert zlib.decompress(png[idat + 4 : idat + 4 + length]) == (b"\x00" + b"\x01\x02\x03" * 3) * 2


async def test_handshake_records_parameters_and_streams_a_frame(fake_guacd: FakeGuacd) -> None:
    client = await Client.open(fake_guacd)
    ready = await client.handshake("rdp", hostname="10.0.0.5", username="ada", port="3389")
    assert ready is not None and ready[0] == "ready" and ready[1].startswith("$")
    handshake = fake_guacd.handshakes[0]
    assert handshake.selected == "rdp" and not handshake.joined
    assert handshake.version == "VERSION_1_5_0"
    assert handshake.parameters["hostname"] == "10.0.0.5"
    assert handshake.parameters["username"] == "ada"
    assert handshake.parameters["password"] == ""
    assert set(handshake.parameters) == set(DEFAULT_ARG_NAMES)
    assert handshake.client_info["size"] == ["1024", "768", "96"]
    assert handshake.client_info["image"] == ["image/png"]
    assert (await client.receive()) == ["name", "fake-rdp"]
    assert (await client.receive()) == ["size", "0", "64", "48"]
    img = await client.receive()
    assert img is not None and img[0] == "img" and img[4] == "image/png"
    blob = await client.receive()
    assert blob is not None and base64.b64decode(blob[2]).startswith(b"\x89PNG")
    await client.until("end")
    await client.until("sync")
    client.send(encode("mouse", 10, 20, 1), encode("key", 65, 1))
    connection = fake_guacd.only_connection()
    await connection.wait_until(lambda c: len(c.received) == 2)
    assert connection.opcodes() == ["mouse", "key"]
    client.send(encode("disconnect"))
    assert await client.receive() is None  # guacd closes the socket
    await fake_guacd.wait_until(lambda g: not g.connections and g.open_sockets == 0)
    await client.close()


async def test_a_second_user_joins_by_connection_id(fake_guacd: FakeGuacd) -> None:
    owner = await Client.open(fake_guacd)
    ready = await owner.handshake("vnc", hostname="h")
    assert ready is not None
    guest = await Client.open(fake_guacd)
    joined = await guest.handshake(ready[1])
    assert joined == ["ready", ready[1]]
    assert fake_guacd.handshakes[1].joined
    await guest.until("sync")  # the joining user gets the current display
    connection = fake_guacd.connection(ready[1])
    assert connection.user_count == 2
    await connection.send(encode("cursor", 0, 0, -1, 0, 0, 11, 16))
    assert (await owner.until("cursor"))[0] == "cursor"
    assert (await guest.until("cursor"))[0] == "cursor"
    await owner.close()  # the connection lives on while one user remains
    await connection.wait_until(lambda c: c.user_count == 1)
    assert not connection.ended
    await guest.close()
    await connection.wait_until(lambda c: c.ended)
    assert ready[1] not in fake_guacd.connections


async def test_unknown_connection_or_protocol_closes_without_a_word(
    fake_guacd: FakeGuacd,
) -> None:
    for target in ("$no-such-connection", "telnet-of-doom"):
        client = await Client.open(fake_guacd)
        client.send(encode("select", target))
        assert await client.receive() is None
        await client.close()
    assert fake_guacd.handshakes == []


async def test_upstream_unreachable_is_ready_then_error_519(fake_guacd: FakeGuacd) -> None:
    fake_guacd.upstream_unreachable = True
    client = await Client.open(fake_guacd)
    ready = await client.handshake("vnc")
    assert ready is not None and ready[0] == "ready"
    assert await client.receive() == ["error", "Aborted. See logs.", "519"]
    assert await client.receive() is None
    await client.close()


async def test_refused_and_dropped_connections(fake_guacd: FakeGuacd) -> None:
    fake_guacd.refuse_connections = True
    client = await Client.open(fake_guacd)
    client.send(encode("select", "vnc"))
    assert await client.receive() is None
    await client.close()
    fake_guacd.refuse_connections = False
    client = await Client.open(fake_guacd)
    await client.handshake("vnc")
    await client.until("sync")
    await fake_guacd.only_connection().drop()
    assert await client.receive() is None
    await client.close()
    await fake_guacd.wait_until(lambda g: g.open_sockets == 0)


async def test_stop_closes_open_sockets() -> None:
    guacd = FakeGuacd()
    await guacd.start()
    client = await Client.open(guacd)
    await client.handshake("vnc")
    await guacd.stop()
    assert await client.until("sync")
    assert await client.receive() is None
    assert guacd.open_sockets == 0
    await client.close()
