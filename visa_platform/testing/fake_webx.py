"""A fake WebX Router and engine: real ZeroMQ sockets on 127.0.0.1, for the ``webx`` relay.

WebX (webx-router + webx-engine) cannot run here, so this double speaks its ZeroMQ contract
(spec desktop-security-cloud.md §1.7) the way webx-relay sees it:

* a ROUTER socket (for REQ clients) on ``port`` answers ``comm`` with ``<pubPort>,
  <collectorPort>,<sessionPort>,<serverPublicKey Z85>``;
* a PUB socket (``publisher_port``) carries engine messages to the relays: a 48-byte header
  (session id, client-index bitmask LE, timestamp LE ms, type LE) and a body;
* a SUB socket (``collector_port``) receives the relays' instructions; each is recorded on its
  session (:class:`Instruction`: the session id and client id the relay wrote, the type);
* a ROUTER socket with CurveZMQ (``session_port``; plain clients are never answered) takes
  ``create_async,<b64 user>,<b64 pass>,<w>,<h>,<kbd>[,k=v...]`` → ``0,<sessionId>,<status>``
  (0 starting, 1 running) or ``<code>,<message>`` with code 1 (invalid parameters), 2 (creation
  error) or 3 (authentication error); legacy ``create`` → ``0,<sessionId>``; ``status,<id>`` →
  ``<id>,<status>`` (``unknown`` for a session it does not know); ``connect,<id>[,<version>]`` →
  ``<clientIdHex>,<clientIndexHex>`` (empty: refused); ``disconnect,<id>,<clientIdHex>`` → ``0``;
  ``ping,<id>`` → ``pong,<id>`` or ``pang,<id>,<reason>``; anything else → an empty answer.

Each session has an engine task publishing a generated screen message every
``frame_interval`` seconds to all its clients; :meth:`FakeWebXSession.send` addresses messages
to chosen clients. Fault switches: ``unreachable`` (no request is answered), ``delay`` (seconds
before each answer), ``legacy`` (``create_async`` and ``status`` unknown), ``starting_polls``
(how many ``status`` answers say "starting"), ``fail_creation`` (code 2), ``passwords``
(username → password; others get code 3), and :meth:`FakeWebXSession.drop_engine` (the engine
dies: no more messages, ``pang`` to pings, optionally a disconnect message to the clients).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq
import zmq.asyncio

HEADER = 48
SCREEN_MESSAGE = 2
DISCONNECT_MESSAGE = 9
#: The index bits a session hands out (webx-engine: a 64-bit mask).
MAX_CLIENTS = 64


@dataclass(frozen=True)
class Instruction:
    """One instruction a relay published to the collector."""

    session_id: str  # hex, from bytes 0-15
    client_id: int  # bytes 16-19 LE
    type: int  # bytes 20-23 LE
    data: bytes


@dataclass
class FakeWebXClient:
    client_id: int
    index: int  # one bit
    version: str | None


@dataclass
class FakeWebXSession:
    """A WebX session: an X session with its engine, and the relays' clients on it."""

    server: FakeWebX
    session_id: str
    username: str
    password: str
    width: int
    height: int
    keyboard: str
    parameters: dict[str, str]
    command: str
    starting_polls: int = 0
    clients: dict[int, FakeWebXClient] = field(default_factory=dict)
    instructions: list[Instruction] = field(default_factory=list)
    engine_alive: bool = True
    sent: int = 0
    _engine: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.starting_polls <= 0

    @property
    def raw_id(self) -> bytes:
        return bytes.fromhex(self.session_id)

    def mask(self, clients: list[int] | None = None) -> int:
        chosen = self.clients.values() if clients is None else [self.clients[c] for c in clients]
        out = 0
        for client in chosen:
            out |= client.index
        return out

    def message(self, body: bytes, mask: int, type_: int = SCREEN_MESSAGE) -> bytes:
        header = bytearray(HEADER)
        header[0:16] = self.raw_id
        header[16:24] = mask.to_bytes(8, "little")
        header[24:32] = int(time.time() * 1000).to_bytes(8, "little")
        header[32:36] = type_.to_bytes(4, "little")
        header[36:40] = self.sent.to_bytes(4, "little")  # message id
        header[40:44] = (HEADER + len(body)).to_bytes(4, "little")
        return bytes(header) + body

    async def send(
        self, body: bytes, clients: list[int] | None = None, type_: int = SCREEN_MESSAGE
    ) -> bytes:
        """Publish a message to these client ids (all clients when ``None``); its bytes."""
        data = self.message(body, self.mask(clients), type_)
        self.sent += 1
        await self.server.publish(data)
        return data

    def drop_engine(self) -> None:
        """The engine dies: no more messages, pings answered with ``pang``."""
        self.engine_alive = False
        if self._engine is not None:
            self._engine.cancel()

    async def disconnect_clients(self) -> None:
        """The engine tells every client it is going (message type 9)."""
        await self.send(b"", type_=DISCONNECT_MESSAGE)

    def start_engine(self) -> None:
        if self._engine is None and self.engine_alive:
            self._engine = asyncio.ensure_future(self._run_engine())

    async def _run_engine(self) -> None:
        frame = itertools.count()
        while True:
            await asyncio.sleep(self.server.frame_interval)
            if self.clients and self.running:
                body = f"screen {self.width}x{self.height} frame {next(frame)}".encode()
                await self.send(body)

    def types(self) -> list[int]:
        return [i.type for i in self.instructions]

    async def stop(self) -> None:
        if self._engine is not None:
            self._engine.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._engine
            self._engine = None


class FakeWebX:
    """The fake router (``port``) and the engines of its sessions."""

    host = "127.0.0.1"

    def __init__(self, frame_interval: float = 0.1) -> None:
        self.frame_interval = frame_interval
        self.port = 0
        self.publisher_port = 0
        self.collector_port = 0
        self.session_port = 0
        self.public_key, self._secret_key = zmq.curve_keypair()
        self.sessions: dict[str, FakeWebXSession] = {}
        #: Every request on the session channel, in order (passwords included: it is a fake).
        self.requests: list[str] = []
        self.comm_requests = 0
        #: Instructions for sessions the fake does not know.
        self.stray_instructions: list[Instruction] = []
        # fault switches
        self.unreachable = False
        self.delay = 0.0
        self.legacy = False
        self.starting_polls = 0
        self.fail_creation = False
        self.passwords: dict[str, str] | None = None
        self._context: zmq.asyncio.Context | None = None
        self._sockets: list[zmq.asyncio.Socket] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._publish_lock = asyncio.Lock()

    async def __aenter__(self) -> FakeWebX:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _bind(self, kind: int, **options: Any) -> tuple[zmq.asyncio.Socket, int]:
        assert self._context is not None
        socket = self._context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        for name, value in options.items():
            socket.setsockopt(getattr(zmq, name), value)
        port = socket.bind_to_random_port(f"tcp://{self.host}")
        self._sockets.append(socket)
        return socket, port

    async def start(self) -> None:
        self._context = zmq.asyncio.Context()
        router, self.port = self._bind(zmq.ROUTER)
        self._publisher, self.publisher_port = self._bind(zmq.PUB)
        collector, self.collector_port = self._bind(zmq.SUB, SUBSCRIBE=b"")
        session, self.session_port = self._bind(
            zmq.ROUTER, CURVE_SERVER=1, CURVE_SECRETKEY=self._secret_key
        )
        self._tasks = [
            asyncio.ensure_future(self._serve(router, self._router_answer)),
            asyncio.ensure_future(self._serve(session, self._session_answer)),
            asyncio.ensure_future(self._collect(collector)),
        ]

    async def stop(self) -> None:
        for session in self.sessions.values():
            await session.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for socket in self._sockets:
            socket.close(linger=0)
        self._sockets = []
        if self._context is not None:
            self._context.term()
            self._context = None

    # -- the sockets ----------------------------------------------------------------------

    async def _serve(self, socket: zmq.asyncio.Socket, answer: Callable[[str], str]) -> None:
        """A ROUTER socket: each request is answered in its own task (a slow answer does not
        hold the others), or never when the router is ``unreachable``."""
        pending: set[asyncio.Task[None]] = set()

        async def reply(envelope: list[bytes], request: str) -> None:
            if self.delay:
                await asyncio.sleep(self.delay)
            await socket.send_multipart([*envelope, answer(request).encode()])

        try:
            while True:
                frames = await socket.recv_multipart()
                if self.unreachable or b"" not in frames:
                    continue
                cut = frames.index(b"") + 1  # identity (and REQ_CORRELATE's id), delimiter
                task = asyncio.ensure_future(
                    reply(frames[:cut], frames[-1].decode("utf-8", "replace"))
                )
                pending.add(task)
                task.add_done_callback(pending.discard)
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _collect(self, socket: zmq.asyncio.Socket) -> None:
        while True:
            data = await socket.recv()
            if len(data) < 24:
                continue
            instruction = Instruction(
                session_id=data[:16].hex(),
                client_id=int.from_bytes(data[16:20], "little"),
                type=int.from_bytes(data[20:24], "little"),
                data=data,
            )
            session = self.sessions.get(instruction.session_id)
            known = session is not None and instruction.client_id in session.clients
            if session is not None and known:
                session.instructions.append(instruction)
            else:
                self.stray_instructions.append(instruction)

    async def publish(self, data: bytes) -> None:
        async with self._publish_lock:
            await self._publisher.send(data)

    # -- the grammar ----------------------------------------------------------------------

    def _router_answer(self, request: str) -> str:
        if request != "comm":
            return ""
        self.comm_requests += 1
        key = self.public_key.decode()
        return f"{self.publisher_port},{self.collector_port},{self.session_port},{key}"

    def _session_answer(self, request: str) -> str:
        self.requests.append(request)
        command, _, rest = request.partition(",")
        args = rest.split(",") if rest else []
        if command == "create_async" and not self.legacy:
            return self._create(command, args)
        if command == "create":
            reply = self._create(command, args)
            return ",".join(reply.split(",")[:2])  # no status: legacy routers create in full
        if command == "status" and not self.legacy and len(args) == 1:
            return self._status(args[0])
        if command == "connect" and args:
            return self._connect(args[0], args[1] if len(args) > 1 else None)
        if command == "disconnect" and len(args) == 2:
            session = self.sessions.get(args[0])
            with contextlib.suppress(ValueError):
                if session is not None:
                    session.clients.pop(int(args[1], 16), None)
            return "0"
        if command == "ping" and len(args) == 1:
            session = self.sessions.get(args[0])
            if session is None:
                return f"pang,{args[0]},unknown session"
            if not session.engine_alive:
                return f"pang,{args[0]},engine not responding"
            return f"pong,{args[0]}"
        return ""

    def _create(self, command: str, args: list[str]) -> str:
        if len(args) < 5:
            return "1,invalid parameters"
        try:
            username = base64.b64decode(args[0], validate=True).decode()
            password = base64.b64decode(args[1], validate=True).decode()
            width, height = int(args[2]), int(args[3])
            parameters = dict(p.split("=", 1) for p in args[5:])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return "1,invalid parameters"
        if not username or width <= 0 or height <= 0:
            return "1,invalid parameters"
        if self.passwords is not None and self.passwords.get(username) != password:
            return "3,authentication error"
        if self.fail_creation:
            return "2,creation error"
        existing = [s for s in self.sessions.values() if s.username == username and s.engine_alive]
        if existing:  # one X session per user (while its engine lives), as the router does
            session = existing[0]
        else:
            session = FakeWebXSession(
                self,
                secrets.token_hex(16),
                username,
                password,
                width,
                height,
                args[4],
                parameters,
                command,
                starting_polls=self.starting_polls,
            )
            self.sessions[session.session_id] = session
            session.start_engine()
        return f"0,{session.session_id},{1 if session.running else 0}"

    def _status(self, session_id: str) -> str:
        session = self.sessions.get(session_id)
        if session is None:
            return "unknown"
        if not session.running:
            session.starting_polls -= 1
            return f"{session_id},0"
        return f"{session_id},1"

    def _connect(self, session_id: str, version: str | None) -> str:
        session = self.sessions.get(session_id)
        if session is None or not session.running or not session.engine_alive:
            return ""
        used = {c.index for c in session.clients.values()}
        free = [1 << bit for bit in range(MAX_CLIENTS) if (1 << bit) not in used]
        if not free:
            return ""
        client_id = secrets.randbits(32) or 1
        session.clients[client_id] = FakeWebXClient(client_id, free[0], version)
        return f"{client_id:08x},{free[0]:016x}"

    # -- for tests ------------------------------------------------------------------------

    def only_session(self) -> FakeWebXSession:
        assert len(self.sessions) == 1, list(self.sessions)
        return next(iter(self.sessions.values()))

    def commands(self) -> list[str]:
        return [r.split(",", 1)[0] for r in self.requests]

    async def wait_until(self, predicate: Callable[[FakeWebX], bool], wait: float = 5) -> None:
        deadline = asyncio.get_running_loop().time() + wait
        while not predicate(self):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the fake WebX did not reach the expected state")
            await asyncio.sleep(0.01)


__all__ = ["FakeWebX", "FakeWebXClient", "FakeWebXSession", "Instruction"]
