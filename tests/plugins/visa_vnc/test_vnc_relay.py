"""The ``vnc`` protocol against a real VNC server (a desktop of the local backend)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from visa_local.backend import LocalBackend
from visa_platform.compute import BackendConfig, CloudInstance, InstanceRequest
from visa_platform.config import load_settings
from visa_platform.desktop.protocol import DesktopConnectError, DesktopTarget
from visa_platform.domain.enums import CloudInstanceState as S
from visa_platform.plugin import PluginHost
from visa_platform.testing.compute_contract import poll_state
from visa_platform.testing.system import needs
from visa_vnc.protocol import VncConnection, VncProtocol

pytestmark = needs(
    "Xtigervnc", "xdotool", packages="tigervnc-standalone-server tigervnc-tools xauth xdotool"
)


@pytest.fixture
async def desktop(tmp_path: Path) -> AsyncIterator[tuple[LocalBackend, CloudInstance]]:
    backend = LocalBackend(
        BackendConfig(
            cloud_id=None,
            name="local",
            type="local",
            parameters={"stateDirectory": str(tmp_path / "state"), "network": "127.77.1.0/24"},
        )
    )
    created = await backend.create_instance(
        InstanceRequest(
            name="T-1",
            image_id="xterm",
            flavour_id="small",
            metadata={"screenWidth": "800", "screenHeight": "600"},
        )
    )
    instance = await poll_state(backend, created.id, {S.ACTIVE}, 20)
    yield backend, instance
    await backend.delete_instance(instance.id)
    await backend.close()


def target(instance: CloudInstance, password: str | None) -> DesktopTarget:
    assert instance.address is not None
    return DesktopTarget(
        instance_id=1,
        host=instance.address,
        port=5900,
        username=None,
        password=None,
        screen_width=800,
        screen_height=600,
        keyboard_layout="en-us-qwerty",
        extra={} if password is None else {"vncPassword": password},
    )


async def browser_handshake(connection: VncConnection) -> bytes:
    """What noVNC does: version, security type none, shared ClientInit; the ServerInit."""
    assert await connection.receive() == b"RFB 003.008\n"
    await connection.send(b"RFB 003.008\n")
    assert await connection.receive() == b"\x01\x01"  # one type offered: none
    await connection.send(b"\x01")
    assert await connection.receive() == b"\x00\x00\x00\x00"
    await connection.send(b"\x01")
    server_init = await connection.receive()
    assert isinstance(server_init, bytes)
    return server_init


def test_the_entry_point_registers_vnc() -> None:
    host = PluginHost()
    host.load_entry_points(allow=["vnc"])
    assert host.desktop_protocols.get("vnc").plugin == "vnc"


async def test_the_browser_gets_a_desktop_without_the_password(
    desktop: tuple[LocalBackend, CloudInstance],
) -> None:
    backend, instance = desktop
    protocol = VncProtocol(load_settings(environ={}))
    connection = await protocol.open(target(instance, backend.vnc_secret(instance.id)))
    try:
        server_init = await browser_handshake(connection)
        width, height = (int.from_bytes(server_init[i : i + 2], "big") for i in (0, 2))
        assert (width, height) == (800, 600)
        assert server_init[24:] == b"T-1"  # the desktop name

        await connection.send(b"\x03\x00" + (0).to_bytes(4, "big") + b"\x03\x20\x02\x58")
        update = await asyncio.wait_for(connection.receive(), 10)
        assert isinstance(update, bytes) and update[0] == 0  # FramebufferUpdate

        await connection.send(b"\x05\x00" + (123).to_bytes(2, "big") + (45).to_bytes(2, "big"))
        display, authority = backend.display_of(instance.id)
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
            if where.stdout.startswith("x:123 y:45"):
                break
            await asyncio.sleep(0.1)
        assert where.stdout.startswith("x:123 y:45"), where.stdout
    finally:
        await connection.close()


async def test_a_wrong_password_or_no_server_is_a_connect_error(
    desktop: tuple[LocalBackend, CloudInstance],
) -> None:
    _, instance = desktop
    protocol = VncProtocol(load_settings(environ={}), timeout=5)
    with pytest.raises(DesktopConnectError, match="authentication failed"):
        await protocol.open(target(instance, "wrong!!!"))
    with pytest.raises(DesktopConnectError, match="no usable security type"):
        await protocol.open(target(instance, None))
    unreachable = DesktopTarget(
        instance_id=1,
        host="127.0.0.1",
        port=9,
        username=None,
        password=None,
        screen_width=800,
        screen_height=600,
        keyboard_layout="en-us-qwerty",
    )
    with pytest.raises(DesktopConnectError, match=r"127\.0\.0\.1:9"):
        await protocol.open(unreachable)
