"""The ``vnc`` socket through the relay core, to a real desktop of the local backend.

What noVNC does, over a real websocket: the RFB handshake the relay answers itself (no VNC
password in the browser), then pointer and key events reaching the X display.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from visa_local.backend import LocalBackend, purge_directory
from visa_platform.accounts.static import ensure_token_file, token_file
from visa_platform.app import create_app
from visa_platform.config import load_settings
from visa_platform.db.engine import create_engine
from visa_platform.db.migrate import upgrade
from visa_platform.domain.enums import InstanceState
from visa_platform.runtime import runtime
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.scheduler.jobs import engine_context
from visa_platform.testing.engine import state_is, sync_until
from visa_platform.testing.servers import serve_asgi
from visa_platform.testing.system import needs

pytestmark = needs(
    "Xtigervnc", "xdotool", packages="tigervnc-standalone-server tigervnc-tools xauth xdotool"
)


async def pointer_at(backend: LocalBackend, compute_id: str, x: int, y: int) -> bool:
    display, authority = backend.display_of(compute_id)
    env = {"PATH": os.environ["PATH"], "DISPLAY": display, "XAUTHORITY": str(authority)}
    for _ in range(50):
        where = await asyncio.to_thread(
            subprocess.run,
            ["xdotool", "getmouselocation"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if where.stdout.startswith(f"x:{x} y:{y} "):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_browser_drives_the_desktop_through_the_relay(tmp_path: Path) -> None:
    settings = load_settings(
        environ={}, data_dir=tmp_path / "data", scheduler_enabled=False,
        instance_port_check_timeout_ms=300,
    )  # fmt: skip
    settings.data_dir.mkdir(parents=True)
    engine = create_engine(settings.sqlalchemy_url(), schema=settings.database_schema)
    await upgrade(engine, settings.database_schema)
    await engine.dispose()
    token = ensure_token_file(token_file(settings))
    admin = {"Authorization": f"Bearer {token}"}

    try:
        await drive(settings, admin)
    finally:  # desktops outlive the server by design: stop this test's
        await purge_directory(settings.data_dir / "clouds" / "default")


async def drive(settings: Any, admin: dict[str, str]) -> None:
    app = create_app(settings)
    async with serve_asgi(app) as base, httpx.AsyncClient(base_url=base, headers=admin) as api:
        state = runtime(app)
        plan = (await api.get("/api/plans")).json()["data"][0]["id"]
        body = {
            "name": "relayed",
            "planId": plan,
            "screenWidth": 800,
            "screenHeight": 600,
            "acceptedTerms": True,
            "experiments": [],
            "keyboardLayout": "en-gb-qwerty",
        }
        created = (await api.post("/api/account/instances", json=body)).json()["data"]
        ctx = engine_context(state)
        executor = CommandExecutor(ctx, backoff=0.05)
        await executor.run_pending()
        await executor.wait_idle()
        instance = await sync_until(ctx, created["id"], state_is(InstanceState.ACTIVE), within=20)
        assert instance.compute_id
        backend = state.clouds.default.backend  # type: ignore[union-attr]
        assert isinstance(backend, LocalBackend)

        ticket = (await api.post(f"/api/account/instances/{created['uid']}/auth/token")).json()
        url = (
            f"{base.replace('http', 'ws')}/api/ws/vdi/{ticket['data']['token']}/{uuid.uuid4()}/vnc"
        )
        async with aiohttp.ClientSession() as client, client.ws_connect(url) as socket:

            async def receive(size: int) -> bytes:
                data = b""
                while len(data) < size:
                    message = await asyncio.wait_for(socket.receive(), 10)
                    assert message.type is aiohttp.WSMsgType.BINARY, message
                    data += message.data
                return data

            assert await receive(12) == b"RFB 003.008\n"
            await socket.send_bytes(b"RFB 003.008\n")
            assert await receive(2) == b"\x01\x01"  # only "none": the relay holds the password
            await socket.send_bytes(b"\x01")
            assert await receive(4) == b"\0\0\0\0"
            await socket.send_bytes(b"\x01")
            server_init = await receive(24)
            assert int.from_bytes(server_init[:2], "big") == 800

            await socket.send_bytes(
                b"\x05\x00" + (321).to_bytes(2, "big") + (123).to_bytes(2, "big")
            )
            assert await pointer_at(backend, instance.compute_id, 321, 123)
        await executor.stop()
