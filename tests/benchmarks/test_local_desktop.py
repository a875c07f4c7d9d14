"""Local desktops: create to ACTIVE, memory per idle desktop, relay throughput against direct VNC.

The throughput is measured on a moving desktop (a terminal listing /usr over and over) with the
same RFB client twice in one run: straight to the VNC server (the baseline), then through the
server's ``vnc`` websocket, relay core included. Both ask for raw, incremental updates as fast as
they come for the same time; the figure is the ratio of bytes received per second.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from visa_local import processes
from visa_local.backend import LocalBackend, purge_directory
from visa_platform.accounts.static import ensure_token_file, token_file
from visa_platform.app import create_app
from visa_platform.compute import BackendConfig, InstanceRequest
from visa_platform.config import load_settings
from visa_platform.db.engine import create_engine
from visa_platform.db.migrate import upgrade
from visa_platform.domain.enums import CloudInstanceState, InstanceState
from visa_platform.runtime import runtime
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.scheduler.jobs import engine_context
from visa_platform.testing.compute_contract import poll_state
from visa_platform.testing.engine import state_is, sync_until
from visa_platform.testing.servers import serve_asgi
from visa_platform.testing.system import needs
from visa_vnc.rfb import authenticate

pytestmark = [
    pytest.mark.bench,
    needs("Xtigervnc", "xdotool", packages="tigervnc-standalone-server xdotool"),
]
#: Typed into the desktop's terminal: it then scrolls without end.
MOVING = "while :; do ls -lR /usr; done"
SECONDS = 4.0
#: SetEncodings(raw), then an incremental update request of the whole 800x600 screen.
RAW = b"\x02\x00\x00\x01" + (0).to_bytes(4, "big")
UPDATE = b"\x03\x01" + (0).to_bytes(4, "big") + (800).to_bytes(2, "big") + (600).to_bytes(2, "big")


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


async def pump(
    send: Callable[[bytes], Awaitable[None]], receive: Callable[[], Awaitable[bytes]]
) -> float:
    """Bytes per second of framebuffer updates, asking again whenever data arrives."""
    await send(RAW + UPDATE)
    received = 0
    deadline = time.monotonic() + SECONDS
    started = time.monotonic()
    while time.monotonic() < deadline:
        try:
            chunk = await asyncio.wait_for(receive(), deadline - time.monotonic())
        except TimeoutError:
            break
        received += len(chunk)
        await send(UPDATE)
    return received / (time.monotonic() - started)


async def test_local_desktops(tmp_path: Path) -> None:
    settings = load_settings(
        environ={}, data_dir=tmp_path / "data", scheduler_enabled=False,
        instance_port_check_timeout_ms=300,
    )  # fmt: skip
    settings.data_dir.mkdir(parents=True)

    # memory of idle desktops, and create -> ACTIVE on the backend itself
    backend = LocalBackend(
        BackendConfig(
            cloud_id=None,
            name="bench",
            type="local",
            parameters={"stateDirectory": str(tmp_path / "idle"), "network": "127.78.0.0/24"},
        )
    )
    times, memory = [], []
    try:
        for n in range(3):
            started = time.monotonic()
            created = await backend.create_instance(
                InstanceRequest(name=f"idle-{n}", image_id="xterm", flavour_id="small")
            )
            await poll_state(backend, created.id, {CloudInstanceState.ACTIVE}, 30)
            times.append(time.monotonic() - started)
        await asyncio.sleep(2)  # the sessions settle
        for instance in await backend.list_instances():
            key = backend._key(instance.id)
            memory.append(rss_kib(processes.instances_running(key.encode())[key]))
    finally:
        for instance in await backend.list_instances():
            await backend.delete_instance(instance.id)

    try:
        direct, relayed = await throughput(settings)
    finally:  # desktops outlive the server by design: stop this test's
        await purge_directory(settings.data_dir / "clouds" / "default")
    print(
        f"\nlocal desktops: create to ACTIVE {sum(times) / len(times):.2f}s (mean of 3); "
        f"memory per idle desktop {sum(memory) / len(memory) / 1024:.1f} MiB RSS "
        f"(Xtigervnc + xterm); moving desktop: direct VNC {direct / 1e6:.1f} MB/s, "
        f"through the relay {relayed / 1e6:.1f} MB/s = {relayed / direct:.2f}x direct"
    )
    assert direct > 0 and relayed > 0


async def throughput(settings: Any) -> tuple[float, float]:
    """Bytes per second on a moving desktop: the same client direct, then through the relay."""
    engine = create_engine(settings.sqlalchemy_url(), schema=settings.database_schema)
    await upgrade(engine, settings.database_schema)
    await engine.dispose()
    token = ensure_token_file(token_file(settings))
    app = create_app(settings)
    async with (
        serve_asgi(app) as base,
        httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api,
    ):
        state = runtime(app)
        local = state.clouds.default.backend  # type: ignore[union-attr]
        assert isinstance(local, LocalBackend)
        plan = (await api.get("/api/plans")).json()["data"][0]["id"]
        body = {
            "name": "moving", "planId": plan, "screenWidth": 800, "screenHeight": 600,
            "acceptedTerms": True, "experiments": [], "keyboardLayout": "en-gb-qwerty",
        }  # fmt: skip
        created = (await api.post("/api/account/instances", json=body)).json()["data"]
        ctx = engine_context(state)
        executor = CommandExecutor(ctx, backoff=0.05)
        await executor.run_pending()
        await executor.wait_idle()
        row = await sync_until(ctx, created["id"], state_is(InstanceState.ACTIVE), within=30)
        assert row.compute_id and row.ip_address
        display, authority = local.display_of(row.compute_id)
        env = {"PATH": os.environ["PATH"], "DISPLAY": display, "XAUTHORITY": str(authority)}
        await asyncio.sleep(1)  # the terminal's window is mapped
        typed = await asyncio.to_thread(
            subprocess.run,
            ["xdotool", "mousemove", "20", "20", "type", "--delay", "5", MOVING + "\n"],
            env=env,
            check=False,
        )
        assert typed.returncode == 0
        await asyncio.sleep(1)  # the terminal scrolls

        reader, writer = await asyncio.open_connection(row.ip_address, 5900)
        await authenticate(reader, writer, local.vnc_secret(row.compute_id))
        writer.write(b"\x01")
        header = await reader.readexactly(24)
        await reader.readexactly(int.from_bytes(header[20:24], "big"))

        async def direct_send(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        async def direct_receive() -> bytes:
            return await reader.read(65536)

        direct = await pump(direct_send, direct_receive)
        writer.close()

        ticket = (await api.post(f"/api/account/instances/{created['uid']}/auth/token")).json()
        url = (
            f"{base.replace('http', 'ws')}/api/ws/vdi/{ticket['data']['token']}/{uuid.uuid4()}/vnc"
        )
        async with aiohttp.ClientSession() as client, client.ws_connect(url) as socket:
            pending = b""

            async def ws_receive() -> bytes:
                message = await socket.receive()
                assert message.type is aiohttp.WSMsgType.BINARY, message
                return bytes(message.data)

            async def receive_exactly(size: int) -> bytes:
                nonlocal pending
                while len(pending) < size:
                    pending += await ws_receive()
                data, pending = pending[:size], pending[size:]
                return data

            await receive_exactly(12)
            await socket.send_bytes(b"RFB 003.008\n")
            await receive_exactly(2)
            await socket.send_bytes(b"\x01")
            await receive_exactly(4)
            await socket.send_bytes(b"\x01")
            header = await receive_exactly(24)
            await receive_exactly(int.from_bytes(header[20:24], "big"))
            relayed = await pump(socket.send_bytes, ws_receive)
        await executor.stop()
    return direct, relayed
