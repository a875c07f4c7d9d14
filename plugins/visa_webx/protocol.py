"""The ``webx`` desktop protocol: an asyncio port of webx-relay (spec §1.7) with pyzmq.

For each browser the relay opens its own ZeroMQ sockets to the WebX Router on the instance:

1. REQ to ``tcp://<ip>:<WEBX port>``: ``comm`` → the publisher, collector and session ports and
   the router's CurveZMQ public key;
2. SUB to the publisher (engine messages), PUB to the collector (browser instructions);
3. REQ with CurveZMQ (an ephemeral key pair) to the session port: ``create_async`` (``create``
   for routers that do not know it), ``status``, ``connect``, ``ping`` every 15 s and
   ``disconnect`` when the browser leaves.

The browser gets a synthetic "connection" message first, NOPs while the session starts, then
the engine messages whose client-index bitmask includes this client. Every request waits at most
``timeout`` seconds (webx-relay's 15 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import zmq
import zmq.asyncio

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
from visa_webx import wire

log = logging.getLogger("visa_webx")

#: webx-relay's ZeroMQ receive timeout (VISA does not change it).
TIMEOUT = 15.0
#: Seconds between ``ping,<sessionId>`` requests (webx-relay's session validator).
PING_INTERVAL = 15.0
#: Seconds between ``status`` requests while a new session starts.
STATUS_INTERVAL = 1.0
#: How long a new session may take to start before the relay gives up.
STARTUP_TIMEOUT = 60.0
#: Largest browser instruction accepted (the core refuses frames over 256 KiB before this).
MAX_INSTRUCTION = 256 * 1024
#: Engine messages waiting for a slow browser before the relay stops reading the publisher.
QUEUE_SIZE = 256


KINDS = {
    wire.MOUSE: InstructionKind.MOUSE,
    wire.KEYBOARD: InstructionKind.KEYBOARD,
    # both change everyone's desktop: the owner's to ask for (spec §1.9 step 3)
    wire.SCREEN_RESIZE: InstructionKind.OWNER_ONLY,
    wire.KEYBOARD_LAYOUT: InstructionKind.OWNER_ONLY,
}
REASONS = {
    CloseWhy.ENDED: "The desktop session ended",
    CloseWhy.DENIED: "Access denied",
    CloseWhy.OWNER_AWAY: "The owner is not connected",
    CloseWhy.REVOKED: "Access revoked",
    CloseWhy.UNREACHABLE: "The desktop cannot be reached",
    CloseWhy.BAD_INPUT: "Invalid WebX instruction",
    CloseWhy.IDLE: "Disconnected after inactivity",
}


class WebXClientReader:
    """One binary frame is one WebX instruction; classified by the low byte of its type."""

    def feed(self, frame: Frame) -> list[ClientInstruction]:
        if isinstance(frame, str):
            raise BadClientFrame("WebX instructions travel in binary frames")
        if len(frame) < wire.MIN_INSTRUCTION:
            raise BadClientFrame(f"a WebX instruction has at least {wire.MIN_INSTRUCTION} bytes")
        if len(frame) > MAX_INSTRUCTION:
            raise BadClientFrame("WebX instruction too large")
        kind = KINDS.get(frame[wire.TYPE_OFFSET], InstructionKind.OTHER)
        return [ClientInstruction(bytes(frame), kind)]


class _Failed:
    """Put in the browser queue when the tunnel broke: ``receive`` raises it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Channel:
    """A REQ socket used one request at a time, each answer within ``timeout`` seconds."""

    def __init__(self, socket: zmq.asyncio.Socket, timeout: float, name: str) -> None:
        self.socket = socket
        self.timeout = timeout
        self.name = name
        self._lock = asyncio.Lock()

    async def request(self, text: str, wait: float | None = None) -> str:
        async with self._lock:
            try:
                async with asyncio.timeout(self.timeout if wait is None else wait):
                    await self.socket.send_string(text)
                    reply = await self.socket.recv()
            except TimeoutError as exc:
                command = text.split(",", 1)[0]
                raise DesktopConnectError(
                    f"no answer from the WebX {self.name} to '{command}'"
                ) from exc
            except zmq.ZMQError as exc:
                raise DesktopConnectError(f"WebX {self.name}: {exc}") from exc
        return reply.decode(errors="replace")


class WebXConnection:
    """One browser's tunnel to a WebX session (a ``RemoteDesktop``)."""

    def __init__(
        self,
        protocol: WebXProtocol,
        sockets: list[zmq.asyncio.Socket],
        subscriber: zmq.asyncio.Socket,
        publisher: zmq.asyncio.Socket,
        channel: Channel,
        session_id: str,
        client_version: str,
    ) -> None:
        self._protocol = protocol
        self._sockets = sockets
        self._subscriber = subscriber
        self._publisher = publisher
        self._channel = channel
        self.session_id = session_id
        self._raw_session = bytes.fromhex(session_id)
        self.client_version = client_version
        self.client_id: int | None = None
        self.client_index = 0
        self._queue: asyncio.Queue[bytes | _Failed | None] = asyncio.Queue(QUEUE_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    @property
    def connection_id(self) -> str:
        return self.session_id

    @property
    def connected(self) -> bool:
        return self.client_id is not None

    async def connect_client(self) -> None:
        """``connect,<sessionId>,<clientVersion>`` → this client's id and index bit."""
        reply = await self._channel.request(f"connect,{self.session_id},{self.client_version}")
        try:
            self.client_id, self.client_index = wire.parse_connect(reply)
        except wire.WireError as exc:
            raise DesktopConnectError(str(exc)) from exc
        log.info(
            "event=webx_client_connected session=%s client=%08x index=%x",
            self.session_id,
            self.client_id,
            self.client_index,
        )

    def start(self, starting: bool) -> None:
        self._queue.put_nowait(wire.connection_message(starting))
        self._tasks.append(asyncio.ensure_future(self._read_engines()))
        if starting:
            self._tasks.append(asyncio.ensure_future(self._wait_until_running()))
        else:
            self._tasks.append(asyncio.ensure_future(self._ping()))

    async def _read_engines(self) -> None:
        """Engine messages of this session whose index mask includes this client."""
        try:
            while True:
                message = await self._subscriber.recv()
                if len(message) < wire.MESSAGE_HEADER:
                    log.debug("event=webx_short_message length=%s", len(message))
                    continue
                if wire.message_session(message) != self._raw_session:
                    continue
                if not wire.message_mask(message) & self.client_index:
                    continue
                if wire.message_type(message) == wire.DISCONNECT_MESSAGE:
                    log.info("event=webx_engine_disconnect session=%s", self.session_id)
                    await self._queue.put(None)
                    return
                await self._queue.put(message)
        except zmq.ZMQError as exc:
            await self._queue.put(_Failed(f"WebX publisher: {exc}"))

    async def _wait_until_running(self) -> None:
        """While the session starts: ``status`` every second, a NOP to the browser each time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._protocol.startup_timeout
        try:
            while True:
                await asyncio.sleep(self._protocol.status_interval)
                reply = await self._channel.request(f"status,{self.session_id}")
                status = wire.parse_status(reply)
                if status == wire.RUNNING:
                    await self.connect_client()
                    await self._queue.put(wire.connection_message(False))
                    break
                if loop.time() > deadline:
                    raise DesktopConnectError("the WebX session did not start in time")
                await self._queue.put(wire.NOP)
        except (DesktopConnectError, wire.WireError) as exc:
            await self._queue.put(_Failed(str(exc)))
            return
        await self._ping()

    async def _ping(self) -> None:
        """``ping,<sessionId>`` every 15 s; ``pang`` or silence ends the tunnel."""
        try:
            while True:
                await asyncio.sleep(self._protocol.ping_interval)
                reply = await self._channel.request(f"ping,{self.session_id}")
                if reply.startswith("pang"):
                    raise DesktopConnectError(f"the WebX session does not answer: {reply[:80]}")
        except DesktopConnectError as exc:
            log.info("event=webx_ping_failed session=%s error=%r", self.session_id, str(exc))
            await self._queue.put(_Failed(str(exc)))

    async def receive(self) -> Frame | None:
        if self._closed:
            return None
        item = await self._queue.get()
        if isinstance(item, _Failed):
            raise DesktopConnectError(item.reason)
        if item is None or len(item) < wire.MESSAGE_HEADER or item[:16] == bytes(16):
            return item  # the end, or the relay's own messages (connection, NOP)
        data = bytearray(item)
        data[18] = min(self._queue.qsize(), 255)  # webx-relay's queue length hint
        return bytes(data)

    async def send(self, data: Frame) -> None:
        if isinstance(data, str):
            data = data.encode()
        if self.client_id is None or self._closed:
            return  # no client id yet (the session is starting): nothing to address it with
        try:
            await self._publisher.send(
                wire.patch_instruction(data, self._raw_session, self.client_id)
            )
        except zmq.ZMQError as exc:
            raise DesktopConnectError(f"WebX collector: {exc}") from exc

    async def close(self) -> None:
        """``disconnect,<sessionId>,<clientId>``, then the sockets (the session lives on)."""
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.client_id is not None:
            try:
                await self._channel.request(
                    f"disconnect,{self.session_id},{self.client_id:08x}",
                    wait=min(self._channel.timeout, 2.0),
                )
            except DesktopConnectError as exc:
                log.info("event=webx_disconnect_failed session=%s error=%r", self.session_id, exc)
        self._protocol.close_sockets(self._sockets)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)


class WebXProtocol:
    """The WebX Router at the instance's ``WEBX`` port (5555)."""

    name = "webx"
    port_protocol = "WEBX"
    default_port = 5555
    #: webx-client's keep-alive: an all-zero 48-byte message header.
    keepalive: Frame | None = wire.NOP
    #: The X session and its engine outlive their clients: the session row stays current.
    persistent_sessions = True

    def __init__(
        self,
        settings: Settings,
        timeout: float = TIMEOUT,
        context: zmq.asyncio.Context | None = None,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.ping_interval = PING_INTERVAL
        self.status_interval = STATUS_INTERVAL
        self.startup_timeout = STARTUP_TIMEOUT
        self._context = context
        self._own_context = context is None
        #: Every ZeroMQ socket this protocol has open (tests check that none is left).
        self.open_sockets: set[zmq.asyncio.Socket] = set()

    @property
    def context(self) -> zmq.asyncio.Context:
        """The ZeroMQ context of this server's WebX sockets (its own unless one was given)."""
        if self._context is None:
            self._context = zmq.asyncio.Context()
        return self._context

    async def aclose(self) -> None:
        """The server stops: close what is left and end the context this protocol made."""
        self.close_sockets(list(self.open_sockets))
        if self._own_context and self._context is not None:
            self._context.term()
            self._context = None

    def _socket(self, kind: int, address: str, **options: Any) -> zmq.asyncio.Socket:
        socket = self.context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        for name, value in options.items():
            socket.setsockopt(getattr(zmq, name), value)
        self.open_sockets.add(socket)
        socket.connect(address)
        return socket

    def close_sockets(self, sockets: list[zmq.asyncio.Socket]) -> None:
        for socket in sockets:
            socket.close(linger=0)
            self.open_sockets.discard(socket)

    def _create_parameters(self, target: DesktopTarget) -> tuple[str, str, int, int, str]:
        return (
            target.username or "",
            target.password or "",
            target.screen_width,
            target.screen_height,
            wire.keyboard(target.keyboard_layout),
        )

    async def open(self, target: DesktopTarget) -> WebXConnection:
        version = wire.client_version(target.client_options.get("clientVersion"))
        base = f"tcp://{target.host}"
        sockets: list[zmq.asyncio.Socket] = []
        try:
            router = self._socket(zmq.REQ, f"{base}:{target.port}")
            sockets.append(router)
            try:
                reply = await Channel(router, self.timeout, "Router").request("comm")
            finally:
                self.close_sockets([router])
                sockets.remove(router)
            ports = wire.parse_comm(reply)
            subscriber = self._socket(zmq.SUB, f"{base}:{ports.publisher}", SUBSCRIBE=b"")
            sockets.append(subscriber)
            publisher = self._socket(zmq.PUB, f"{base}:{ports.collector}")
            sockets.append(publisher)
            public, secret = zmq.curve_keypair()
            session_socket = self._socket(
                zmq.REQ,
                f"{base}:{ports.session}",
                REQ_RELAXED=1,
                REQ_CORRELATE=1,
                CURVE_SERVERKEY=ports.server_key.encode(),
                CURVE_PUBLICKEY=public,
                CURVE_SECRETKEY=secret,
            )
            sockets.append(session_socket)
            channel = Channel(session_socket, self.timeout, "session channel")
            if target.connection_id is None:
                session_id, status = await self._create(channel, target)
            else:
                if not wire.SESSION_ID.fullmatch(target.connection_id):
                    raise DesktopConnectError(f"not a WebX session id: {target.connection_id!r}")
                session_id = target.connection_id.lower()
                status = wire.parse_status(await channel.request(f"status,{session_id}"))
            connection = WebXConnection(
                self, sockets, subscriber, publisher, channel, session_id, version
            )
            if status == wire.RUNNING:
                await connection.connect_client()
        except (DesktopConnectError, wire.WireError, zmq.ZMQError) as exc:
            self.close_sockets(sockets)
            where = f"WebX Router {target.host}:{target.port}"
            raise DesktopConnectError(f"{where}: {exc}") from exc
        except BaseException:
            self.close_sockets(sockets)
            raise
        connection.start(starting=status != wire.RUNNING)
        log.info(
            "event=webx_open session=%s joined=%s starting=%s",
            session_id,
            target.connection_id is not None,
            status != wire.RUNNING,
        )
        return connection

    async def _create(self, channel: Channel, target: DesktopTarget) -> tuple[str, int]:
        """``create_async`` with credentials, screen, keyboard and the ``vdi.webx.*`` params;
        ``create`` when the router does not know it (an empty answer)."""
        arguments = (*self._create_parameters(target), self.settings.webx_parameters())
        reply = await channel.request(wire.create_request("create_async", *arguments))
        if reply == "":
            reply = await channel.request(wire.create_request("create", *arguments))
        return wire.parse_creation(reply)

    def client_reader(self) -> WebXClientReader:
        return WebXClientReader()

    def close_reason(self, why: CloseWhy) -> str:
        return REASONS[why]


__all__ = ["WebXClientReader", "WebXConnection", "WebXProtocol"]
