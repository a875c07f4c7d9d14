"""The fake WebX Router and engine, driven with plain ZeroMQ sockets (no relay)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest
import zmq
import zmq.asyncio

from visa_platform.testing.fake_webx import FakeWebX


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Peer:
    """What a relay holds: the router REQ, the CURVE session REQ, a SUB and a PUB."""

    def __init__(self, fake: FakeWebX, context: zmq.asyncio.Context) -> None:
        self.fake = fake
        self.context = context
        self.sockets: list[zmq.asyncio.Socket] = []

    def socket(self, kind: int, port: int, **options: object) -> zmq.asyncio.Socket:
        socket = self.context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        for name, value in options.items():
            socket.setsockopt(getattr(zmq, name), value)
        socket.connect(f"tcp://127.0.0.1:{port}")
        self.sockets.append(socket)
        return socket

    def session_channel(self, curve: bool = True) -> zmq.asyncio.Socket:
        options: dict[str, object] = {}
        if curve:
            public, secret = zmq.curve_keypair()
            options = {
                "CURVE_SERVERKEY": self.fake.public_key,
                "CURVE_PUBLICKEY": public,
                "CURVE_SECRETKEY": secret,
            }
        return self.socket(zmq.REQ, self.fake.session_port, **options)

    def close(self) -> None:
        for socket in self.sockets:
            socket.close(linger=0)


@pytest.fixture
async def peer(fake_webx: FakeWebX) -> AsyncIterator[Peer]:
    context = zmq.asyncio.Context()
    peer = Peer(fake_webx, context)
    try:
        yield peer
    finally:
        peer.close()
        context.term()


async def ask(socket: zmq.asyncio.Socket, request: str, wait: float = 2) -> str:
    await socket.send_string(request)
    return (await asyncio.wait_for(socket.recv(), wait)).decode()


def create(user: str = "ada", password: str = "pw", *extra: str) -> str:
    return ",".join(["create_async", b64(user), b64(password), "1280", "1024", "gb", *extra])


async def test_comm_and_the_session_grammar(fake_webx: FakeWebX, peer: Peer) -> None:
    router = peer.socket(zmq.REQ, fake_webx.port)
    ports = (await ask(router, "comm")).split(",")
    assert ports[:3] == [
        str(fake_webx.publisher_port),
        str(fake_webx.collector_port),
        str(fake_webx.session_port),
    ]
    assert ports[3].encode() == fake_webx.public_key and len(ports[3]) == 40
    channel = peer.session_channel()
    code, session_id, status = (await ask(channel, create("ada", "pw", "logLevel=debug"))).split(
        ","
    )
    assert (code, status, len(session_id)) == ("0", "1", 32)
    session = fake_webx.sessions[session_id]
    assert (session.username, session.password, session.keyboard) == ("ada", "pw", "gb")
    assert (session.width, session.height, session.parameters) == (
        1280,
        1024,
        {"logLevel": "debug"},
    )
    assert await ask(channel, f"status,{session_id}") == f"{session_id},1"
    assert await ask(channel, "status,00000000000000000000000000000000") == "unknown"
    first = (await ask(channel, f"connect,{session_id},1.7.2")).split(",")
    second = (await ask(channel, f"connect,{session_id}")).split(",")
    assert int(first[1], 16) == 1 and int(second[1], 16) == 2  # one index bit each
    assert session.clients[int(first[0], 16)].version == "1.7.2"
    assert await ask(channel, "connect,ffffffffffffffffffffffffffffffff,1.0.0") == ""
    assert await ask(channel, f"ping,{session_id}") == f"pong,{session_id}"
    assert await ask(channel, f"disconnect,{session_id},{first[0]}") == "0"
    assert list(session.clients) == [int(second[0], 16)]
    assert await ask(channel, "frobnicate") == ""
    # the same user gets the same X session back
    assert (await ask(channel, create("ada", "pw"))).split(",")[1] == session_id
    assert fake_webx.commands()[0] == "create_async"


async def test_error_codes(fake_webx: FakeWebX, peer: Peer) -> None:
    channel = peer.session_channel()
    assert await ask(channel, "create_async,!!,x,1,1,gb") == "1,invalid parameters"
    assert await ask(channel, create("ada", "pw").replace("1280", "wide")) == "1,invalid parameters"
    fake_webx.passwords = {"ada": "secret"}
    assert await ask(channel, create("ada", "wrong")) == "3,authentication error"
    fake_webx.fail_creation = True
    assert await ask(channel, create("ada", "secret")) == "2,creation error"
    assert not fake_webx.sessions


async def test_legacy_and_starting_sessions(fake_webx: FakeWebX, peer: Peer) -> None:
    channel = peer.session_channel()
    fake_webx.legacy = True
    assert await ask(channel, create("ada")) == ""  # create_async unknown
    code, session_id = (await ask(channel, create("ada").replace("create_async", "create"))).split(
        ","
    )
    assert code == "0" and await ask(channel, f"status,{session_id}") == ""
    fake_webx.legacy, fake_webx.starting_polls = False, 2
    reply = await ask(channel, create("alan"))
    code, starting, status = reply.split(",")
    assert status == "0"
    assert await ask(channel, f"connect,{starting}") == ""  # not running yet
    assert await ask(channel, f"status,{starting}") == f"{starting},0"
    assert await ask(channel, f"status,{starting}") == f"{starting},0"
    assert await ask(channel, f"status,{starting}") == f"{starting},1"
    assert await ask(channel, f"connect,{starting}") != ""


async def test_curve_is_required_on_the_session_channel(fake_webx: FakeWebX, peer: Peer) -> None:
    plain = peer.session_channel(curve=False)
    with pytest.raises(TimeoutError):
        await ask(plain, create(), wait=0.5)
    assert fake_webx.requests == []
    assert (await ask(peer.session_channel(), create())).startswith("0,")


async def test_messages_go_to_the_masked_clients_and_instructions_are_recorded(
    fake_webx: FakeWebX, peer: Peer
) -> None:
    fake_webx.frame_interval = 0.05
    channel = peer.session_channel()
    session_id = (await ask(channel, create())).split(",")[1]
    a_id, a_index = (await ask(channel, f"connect,{session_id}")).split(",")
    b_id, _ = (await ask(channel, f"connect,{session_id}")).split(",")
    session = fake_webx.sessions[session_id]
    subscriber = peer.socket(zmq.SUB, fake_webx.publisher_port, SUBSCRIBE=b"")
    message = await asyncio.wait_for(subscriber.recv(), 5)  # the generated screen stream
    assert message[:16] == bytes.fromhex(session_id)
    assert int.from_bytes(message[16:24], "little") == 0b11
    assert int.from_bytes(message[32:36], "little") == 2 and len(message) > 48
    sent = await session.send(b"just b", clients=[int(b_id, 16)], type_=7)
    assert int.from_bytes(sent[16:24], "little") == 0b10 and int(a_index, 16) == 0b01
    while (message := await asyncio.wait_for(subscriber.recv(), 5)) != sent:
        pass
    publisher = peer.socket(zmq.PUB, fake_webx.collector_port)
    instruction = (
        bytes.fromhex(session_id) + int(a_id, 16).to_bytes(4, "little") + (5).to_bytes(4, "little")
    )
    for _ in range(100):  # PUB drops what it sends before the subscription arrives
        await publisher.send(instruction + b"xy")
        if session.instructions:
            break
        await asyncio.sleep(0.05)
    got = session.instructions[0]
    assert (got.session_id, got.client_id, got.type) == (session_id, int(a_id, 16), 5)
    await publisher.send(bytes(16) + (1).to_bytes(4, "little") + (6).to_bytes(4, "little"))
    await fake_webx.wait_until(lambda f: bool(f.stray_instructions))
    # the engine dies: pings fail, the stream stops
    session.drop_engine()
    assert (await ask(channel, f"ping,{session_id}")).startswith(f"pang,{session_id},")
    assert await ask(channel, f"connect,{session_id}") == ""


async def test_unreachable_and_slow_router(fake_webx: FakeWebX, peer: Peer) -> None:
    fake_webx.unreachable = True
    router = peer.socket(zmq.REQ, fake_webx.port)
    with pytest.raises(TimeoutError):
        await ask(router, "comm", wait=0.3)
    fake_webx.unreachable = False
    fake_webx.delay = 0.3
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await ask(peer.socket(zmq.REQ, fake_webx.port), "comm")).count(",") == 3
    assert loop.time() - started >= 0.3
