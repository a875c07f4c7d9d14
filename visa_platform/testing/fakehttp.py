"""A small HTTP server for protocol-level fakes, served by hypercorn on 127.0.0.1.

A fake declares routes (``@server.route("GET", r"/v2/servers/(?P<id>[^/]+)")``) whose handlers
get a :class:`FakeRequest` and return a :class:`FakeResponse`. Every server has the same fault
switches (:class:`Faults`): latency, one-shot HTTP errors, hung requests and malformed answers, so
that tests of any HTTP client can check its error mapping and timeouts. It binds a free port,
records every request, and stops (cancelling hung requests) when its ``async with`` block ends.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

from hypercorn.asyncio import serve
from hypercorn.config import Config

Handler = Callable[..., Awaitable["FakeResponse"]]


@dataclass
class FakeRequest:
    """One request as the fake saw it (headers lower-cased; ``query`` keeps the last value)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    query_string: str = ""

    def json(self) -> Any:
        """The body as JSON; a fake answers 400 when it is not (see :class:`BadRequest`)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadRequest(f"body is not JSON: {exc}") from None

    @property
    def path_qs(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path


@dataclass
class FakeResponse:
    """A response: ``body`` is JSON-encoded unless it is ``bytes``.

    With ``stream`` the body is sent chunk by chunk as the iterator yields (``body`` is ignored):
    a long-lived answer such as a Kubernetes watch. The stream is closed when the client goes.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stream: AsyncIterator[bytes] | None = None

    def encode(self) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if isinstance(self.body, bytes):
            payload = self.body
        elif self.body is None and self.status in (202, 204):
            payload = b""
        else:
            payload = json.dumps(self.body).encode()
            headers.setdefault("content-type", "application/json")
        headers["content-length"] = str(len(payload))
        return payload, [(k.encode(), v.encode()) for k, v in headers.items()]


def json_response(body: Any, status: int = 200, **headers: str) -> FakeResponse:
    return FakeResponse(status, body, dict(headers))


class BadRequest(Exception):
    """Raised by handlers for malformed input; the fake answers 400 with the message."""


@dataclass
class _OneShot:
    kind: str  # "status" | "hang" | "malformed"
    status: int = 503
    match: str | None = None


class Faults:
    """Fault switches of one fake server. Each applies to requests whose path contains ``match``.

    ``latency`` delays every matching request; ``fail_next``, ``hang_next`` and
    ``malformed_next`` queue one-shot faults consumed in order by the next matching requests.
    """

    def __init__(self) -> None:
        self.latency: float = 0.0
        self.latency_match: str | None = None
        self._queue: list[_OneShot] = []

    def set_latency(self, seconds: float, match: str | None = None) -> None:
        """Delay every request (whose path contains ``match``) by ``seconds``."""
        self.latency = seconds
        self.latency_match = match

    def fail_next(self, status: int = 503, count: int = 1, match: str | None = None) -> None:
        """Answer the next ``count`` matching requests with ``status`` and an error body."""
        self._queue.extend(_OneShot("status", status, match) for _ in range(count))

    def hang_next(self, count: int = 1, match: str | None = None) -> None:
        """Never answer the next ``count`` matching requests (the client must time out)."""
        self._queue.extend(_OneShot("hang", match=match) for _ in range(count))

    def malformed_next(self, count: int = 1, match: str | None = None) -> None:
        """Answer the next ``count`` matching requests with 200 and a body that is not JSON."""
        self._queue.extend(_OneShot("malformed", match=match) for _ in range(count))

    def clear(self) -> None:
        self.latency = 0.0
        self.latency_match = None
        self._queue.clear()

    @property
    def pending(self) -> int:
        """One-shot faults not yet consumed."""
        return len(self._queue)

    def take(self, path: str) -> _OneShot | None:
        for index, fault in enumerate(self._queue):
            if fault.match is None or fault.match in path:
                return self._queue.pop(index)
        return None

    def delay_for(self, path: str) -> float:
        if self.latency and (self.latency_match is None or self.latency_match in path):
            return self.latency
        return 0.0


class FakeHttpServer:
    """Routes + faults + request log, served on a free port of 127.0.0.1 while started."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: int | None = None
        self.faults = Faults()
        self.requests: list[FakeRequest] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._hung: asyncio.Event = asyncio.Event()

    # -- routing ----------------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        """Route ``method`` requests whose whole path matches ``pattern`` to ``handler``."""
        self._routes.append((method.upper(), re.compile(pattern + r"/?\Z"), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add_route(method, pattern, handler)
            return handler

        return decorate

    async def dispatch(self, request: FakeRequest) -> FakeResponse:
        """Find the route and call it (no faults); 404/405 when nothing matches."""
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if method != request.method:
                allowed = True
                continue
            try:
                return await handler(request, **match.groupdict())
            except BadRequest as exc:
                return json_response({"error": {"code": 400, "message": str(exc)}}, 400)
        if allowed:
            return json_response({"error": {"code": 405, "message": "method not allowed"}}, 405)
        return json_response({"error": {"code": 404, "message": f"no route {request.path}"}}, 404)

    def error_body(self, status: int, request: FakeRequest) -> Any:
        """Body of an injected error response (fakes override it with their service's format)."""
        return {"error": {"code": status, "message": f"injected fault {status}"}}

    async def handle(self, request: FakeRequest) -> FakeResponse:
        """Apply faults, then dispatch."""
        self.requests.append(request)
        delay = self.faults.delay_for(request.path)
        if delay:
            await asyncio.sleep(delay)
        fault = self.faults.take(request.path)
        if fault is not None:
            if fault.kind == "hang":
                await self._hung.wait()  # set only when the server stops
                return FakeResponse(503, b"")
            if fault.kind == "malformed":
                return FakeResponse(200, b"<html>surprise", {"content-type": "application/json"})
            return json_response(self.error_body(fault.status, request), fault.status)
        return await self.dispatch(request)

    # -- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query_string = scope.get("query_string", b"").decode()
        request = FakeRequest(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
            query_string=query_string,
        )
        try:
            response = await self.handle(request)
        except Exception as exc:  # a bug in a fake must show, not hang the client
            response = FakeResponse(500, f"fake server error: {exc!r}".encode())
        if response.stream is not None:
            await self._send_stream(response, receive, send)
            return
        payload, headers = response.encode()
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    async def _send_stream(response: FakeResponse, receive: Any, send: Any) -> None:
        """Send a streamed answer until the iterator ends or the client disconnects."""
        assert response.stream is not None
        stream = response.stream
        headers = [(k.lower().encode(), v.encode()) for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})

        async def pump() -> None:
            async for chunk in stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(disconnected())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        if tasks[0] in done and tasks[0].exception() is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    # -- life -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the fake server is not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind a free port and serve in the running event loop."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 1.0
        config.keep_alive_timeout = 30
        self._stop = asyncio.Event()
        self._hung = asyncio.Event()
        started = asyncio.get_running_loop().create_future()

        async def run() -> None:
            assert self._stop is not None
            try:
                await serve(self, config, shutdown_trigger=self._stop.wait, mode="asgi")
            except BaseException as exc:
                if not started.done():
                    started.set_exception(exc)
                raise

        self._task = asyncio.get_running_loop().create_task(run())
        await self._wait_listening(started)

    async def _wait_listening(self, started: asyncio.Future[None]) -> None:
        assert self.port is not None
        for _ in range(200):
            if started.done():
                started.result()
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.01)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise RuntimeError("fake server did not start listening")

    async def stop(self) -> None:
        """Stop serving; hung requests are released so the server can exit."""
        if self._stop is None or self._task is None:
            return
        self._hung.set()
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, 10)
        finally:
            self._task = None
            self._stop = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def count(self, method: str | None = None, path_contains: str = "") -> int:
        """How many recorded requests match."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and path_contains in r.path
        )


__all__ = [
    "BadRequest",
    "FakeHttpServer",
    "FakeRequest",
    "FakeResponse",
    "Faults",
    "json_response",
]
