"""The local backend's own behaviour: processes, secrets, restarts, limits, configuration."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest
from local_rig import local_config, needs_tigervnc

from visa_local import processes
from visa_local.backend import LocalBackend
from visa_platform.compute import (
    CloudConfigurationError,
    CloudInstance,
    CloudRejectedError,
    InstanceRequest,
)
from visa_platform.domain.enums import CloudInstanceState as S
from visa_platform.plugin import PluginHost
from visa_platform.testing.compute_contract import poll_state
from visa_vnc.rfb import RfbError, authenticate

REQUEST = InstanceRequest(
    name="T-1",
    image_id="xterm",
    flavour_id="small",
    metadata={"screenWidth": "1024", "screenHeight": "768"},
)


def test_the_entry_point_registers_local() -> None:
    host = PluginHost()
    host.load_entry_points(allow=["local"])
    assert host.compute_backends.get("local").plugin == "local"


def test_missing_binaries_name_the_debian_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(CloudConfigurationError) as caught:
        LocalBackend(local_config(tmp_path))
    assert str(caught.value) == (
        "the local compute backend needs TigerVNC and xauth on this host: "
        "apt-get install tigervnc-standalone-server tigervnc-tools xauth"
    )


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"images": "[]"}, "images: a non-empty JSON list"),
        ({"images": '[{"id": "x"}]'}, "needs id and command"),
        ({"flavours": '[{"id": "x"}]'}, "needs id, cpus and ram"),
        ({"maxInstances": "0"}, "maxInstances: a positive integer"),
        ({"network": "10.0.0.0/24"}, "must be a loopback network"),
    ],
)
def test_configuration_errors(tmp_path: Path, parameters: dict[str, str], message: str) -> None:
    with pytest.raises(CloudConfigurationError, match=message):
        LocalBackend(local_config(tmp_path, **parameters))


async def active(backend: LocalBackend, request: InstanceRequest = REQUEST) -> CloudInstance:
    created = await backend.create_instance(request)
    return await poll_state(backend, created.id, {S.ACTIVE}, 20)


def x_client(
    backend: LocalBackend, instance_id: str, *argv: str
) -> subprocess.CompletedProcess[str]:
    display, authority = backend.display_of(instance_id)
    env = {"PATH": os.environ["PATH"], "DISPLAY": display, "XAUTHORITY": str(authority)}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10, check=False)


async def session_window(backend: LocalBackend, instance_id: str, within: float = 10) -> str:
    """The id of the session command's (xterm's) window, once it is mapped."""
    for _ in range(int(within / 0.1)):
        found = await asyncio.to_thread(
            x_client, backend, instance_id, "xdotool", "search", "--class", "xterm"
        )
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.split()[0]
        await asyncio.sleep(0.1)
    log = (backend.store.directory(instance_id) / "desktop.log").read_text(errors="replace")
    record = backend.store.load(instance_id)
    raise AssertionError(f"the session command opened no window ({record}); log:\n{log[-2000:]}")


@needs_tigervnc
async def test_a_desktop_with_its_own_address_display_and_secret(
    local_backend: LocalBackend,
) -> None:
    first = await active(local_backend)
    second = await active(
        local_backend, InstanceRequest(name="T-2", image_id="xterm", flavour_id="small")
    )
    assert first.address != second.address
    assert {first.address, second.address} <= {f"127.77.0.{n}" for n in range(1, 255)}
    assert local_backend.display_of(first.id)[0] != local_backend.display_of(second.id)[0]

    # the session command runs on the instance's display, at the asked screen size
    await session_window(local_backend, first.id)
    geometry = await asyncio.to_thread(x_client, local_backend, first.id, "xdpyinfo")
    assert "dimensions:    1024x768 pixels" in geometry.stdout

    # the display needs the instance's cookie
    display, _ = local_backend.display_of(first.id)
    anonymous = await asyncio.to_thread(
        subprocess.run,
        ["xdpyinfo"],
        env={"PATH": os.environ["PATH"], "DISPLAY": display, "XAUTHORITY": "/nonexistent"},
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert anonymous.returncode != 0

    # VNC: only password authentication; the secret opens it, another password does not
    assert first.address is not None
    reader, writer = await asyncio.open_connection(first.address, 5900)
    await authenticate(reader, writer, local_backend.vnc_secret(first.id))
    writer.close()
    reader, writer = await asyncio.open_connection(first.address, 5900)
    with pytest.raises(RfbError, match="no usable security type"):
        await authenticate(reader, writer, None)
    writer.close()
    reader, writer = await asyncio.open_connection(first.address, 5900)
    with pytest.raises(RfbError, match="failed"):
        await authenticate(reader, writer, "wrong!!!")
    writer.close()
    secret_file = local_backend.store.directory(first.id) / "vnc-secret"
    assert secret_file.stat().st_mode & 0o077 == 0


@needs_tigervnc
async def test_processes_killed_from_outside_show_as_error_and_start_again(
    local_backend: LocalBackend,
) -> None:
    instance = await active(local_backend)
    record = local_backend.store.load(instance.id)
    assert record is not None and record.vnc_pid
    os.kill(record.vnc_pid, signal.SIGKILL)
    failed = await poll_state(local_backend, instance.id, {S.ERROR}, 10)
    assert failed.fault is not None and "not running" in (failed.fault.message or "")
    await local_backend.start_instance(instance.id)
    await poll_state(local_backend, instance.id, {S.ACTIVE}, 20)
    await session_window(local_backend, instance.id)


@needs_tigervnc
async def test_shutdown_stops_every_process_and_frees_nothing_twice(
    local_backend: LocalBackend,
) -> None:
    instance = await active(local_backend)
    await session_window(local_backend, instance.id)
    key = local_backend._key(instance.id)
    assert processes.instances_running(key.encode())  # X server and session
    await local_backend.shutdown_instance(instance.id)
    assert (await local_backend.get_instance(instance.id)).state is S.STOPPED  # type: ignore[union-attr]
    assert processes.instances_running(key.encode()) == {}
    assert instance.address is not None and processes.address_free(instance.address, 5900)
    await local_backend.delete_instance(instance.id)
    assert not local_backend.store.directory(instance.id).exists()


@needs_tigervnc
async def test_a_restarted_server_adopts_its_desktops_and_stops_orphans(tmp_path: Path) -> None:
    config = local_config(tmp_path / "state")
    first = LocalBackend(config)
    kept = await active(first)
    orphan = await active(first, InstanceRequest(name="T-2", image_id="xterm", flavour_id="small"))
    stopped = await active(first, InstanceRequest(name="T-3", image_id="xterm", flavour_id="small"))
    kept_pid = first.store.load(kept.id).vnc_pid  # type: ignore[union-attr]
    await first.close()  # the server stops: desktops keep running

    # while it is down: one instance's record disappears, another is marked powered off
    orphan_key = first._key(orphan.id).encode()
    stopped_key = first._key(stopped.id).encode()
    (first.store.directory(orphan.id) / "instance.json").unlink()
    record = first.store.load(stopped.id)
    assert record is not None
    record.power = "off"
    first.store.save(record)

    second = LocalBackend(config)
    try:
        listed = {i.id: i for i in await second.list_instances()}
        assert listed[kept.id].state is S.ACTIVE
        assert second.store.load(kept.id).vnc_pid == kept_pid  # type: ignore[union-attr]
        assert listed[stopped.id].state is S.STOPPED
        assert processes.instances_running(orphan_key) == {}
        assert processes.instances_running(stopped_key) == {}
    finally:
        for instance_id in (kept.id, stopped.id):
            await second.delete_instance(instance_id)
        await second.close()


@needs_tigervnc
async def test_a_full_host_refuses_clearly(tmp_path: Path) -> None:
    backend = LocalBackend(local_config(tmp_path / "state", maxInstances="1"))
    try:
        await backend.create_instance(REQUEST)
        with pytest.raises(CloudRejectedError) as caught:
            await backend.create_instance(REQUEST)
        assert caught.value.user_message == (
            "This host already runs its maximum of 1 instances; delete one and try again."
        )
        limits = await backend.limits()
        assert limits is not None
        assert (limits.max_total_instances, limits.total_instances_used) == (1, 1)
    finally:
        for instance in await backend.list_instances():
            await backend.delete_instance(instance.id)


@needs_tigervnc
async def test_a_busy_display_or_address_is_skipped(
    local_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_display = local_backend.settings.first_display
    monkeypatch.setattr(processes, "display_free", lambda display: display != first_display)
    first_free = next(
        str(a)
        for a in local_backend.settings.network.hosts()
        if processes.address_free(str(a), 5900)
    )
    with socket_listening(first_free, 5900):
        instance = await active(local_backend)
    assert instance.address != first_free
    assert local_backend.display_of(instance.id)[0] != f":{first_display}"


class socket_listening:
    """Something else listening on an address (so the backend must pick another)."""

    def __init__(self, address: str, port: int) -> None:
        import socket

        self.socket = socket.socket()
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((address, port))
            self.socket.listen()
        except OSError:
            self.socket.close()
            raise

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.socket.close()
