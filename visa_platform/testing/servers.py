"""Serve an ASGI application over real HTTP on 127.0.0.1 for the length of a test."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_asgi(app: Any, startup_timeout: float = 10.0) -> AsyncIterator[str]:
    """Run ``app`` with Hypercorn on a free loopback port; yields its base URL, then stops it."""
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 1
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        deadline = asyncio.get_running_loop().time() + startup_timeout
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                if task.done() or asyncio.get_running_loop().time() > deadline:
                    task.result() if task.done() else None
                    raise RuntimeError(f"test server did not start on port {port}") from None
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
