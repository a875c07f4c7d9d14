"""Starting, finding and stopping the processes of a local instance.

Every process starts in its own session (process group), so stopping it stops what it started
(the session command's children too). A process is identified by its pid *and* its command line,
so a pid reused by an unrelated process after a restart is never mistaken for ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The asyncio handles of the children this process started (so they are reaped).
_children: dict[int, asyncio.subprocess.Process] = {}


async def spawn(
    argv: Sequence[str], *, log: Path, env: Mapping[str, str], cwd: Path | None = None
) -> int:
    """Start ``argv`` in a new session, output appended to ``log``; its pid."""
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        os.close(output)
    _children[process.pid] = process
    asyncio.get_running_loop().create_task(_reap(process))
    return process.pid


async def _reap(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(Exception):
        await process.wait()
    _children.pop(process.pid, None)


MARKER = "VISA_LOCAL_INSTANCE"


def marker(instance_id: str) -> bytes:
    """What the environment of every process of an instance carries."""
    return f"{MARKER}={instance_id}".encode()


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in {"Z", "X"}


def _environment(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return []


def pgid_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def alive(pid: int | None, instance_id: str) -> bool:
    """Whether ``pid`` runs and is a process of ``instance_id`` (not a reused pid)."""
    if pid is None or pid <= 0 or _zombie(pid):
        return False
    environment = _environment(pid)
    if environment == [b""] and pid in _children:
        # a child of ours still inside execve: its environment reads empty for a moment
        return True
    return marker(instance_id) in environment


def members(pgid: int, instance_id: str) -> list[int]:
    """The live processes of group ``pgid`` that belong to ``instance_id``."""
    wanted = marker(instance_id)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pgid_of(pid) != pgid or _zombie(pid):
            continue
        environment = _environment(pid)
        # an empty environment: the process is exiting (or inside execve); in our group, ours
        if wanted in environment or environment == [b""]:
            found.append(pid)
    return found


def instances_running(prefix: bytes) -> dict[str, list[int]]:
    """Instance id -> pids, for every live process whose marker value starts with ``prefix``.

    Finds what a crashed server left behind (processes of instances it no longer knows).
    """
    found: dict[str, list[int]] = {}
    head = f"{MARKER}=".encode() + prefix
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        for item in _environment(pid):
            if item.startswith(head) and not _zombie(pid):
                found.setdefault(item.split(b"=", 1)[1].decode(), []).append(pid)
    return found


async def stop_group(pgid: int | None, instance_id: str, grace: float = 3.0) -> None:
    """Terminate the instance's processes in group ``pgid`` (SIGTERM, SIGKILL after ``grace``)."""
    if pgid is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = await asyncio.to_thread(members, pgid, instance_id)  # a scan of /proc
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        # polling /proc: a process we did not start (adopted) gives no event to wait for
        while time.monotonic() < deadline:
            remaining: list[int] = await asyncio.to_thread(members, pgid, instance_id)
            if not remaining:
                break
            await asyncio.sleep(0.05)


async def port_open(address: str, port: int, within: float = 0.5) -> bool:
    """Whether a TCP connection to ``address:port`` succeeds within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            _, writer = await asyncio.open_connection(address, port)
    except (OSError, TimeoutError):
        return False
    await _close(writer)
    return True


async def display_ready(display: int, within: float = 0.5) -> bool:
    """Whether the X server of ``:display`` accepts connections (a stale socket does not)."""
    try:
        async with asyncio.timeout(within):
            _, writer = await asyncio.open_unix_connection(f"/tmp/.X11-unix/X{display}")
    except (OSError, TimeoutError):
        return False
    await _close(writer)
    return True


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def address_free(address: str, port: int) -> bool:
    """Whether nothing listens on ``address:port`` (we can bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def display_free(display: int) -> bool:
    """Whether no X server uses display ``:display`` on this host.

    A lock file whose process is gone is stale (the next X server removes it); a server is
    also found by its abstract socket, which outlives a deleted ``/tmp/.X11-unix`` entry.
    """
    lock = Path(f"/tmp/.X{display}-lock")
    try:
        holder = int(lock.read_text().strip() or 0)
    except FileNotFoundError:
        holder = 0
    except (OSError, ValueError):
        return False  # unreadable: someone else's, leave it alone
    if holder and _running(holder):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(f"\0/tmp/.X11-unix/X{display}")
        except OSError:
            return True
    return False


async def display_released(display: int, within: float = 3.0) -> bool:
    """Wait until the process named in ``/tmp/.X<display>-lock`` (if any) has gone for good.

    An X server refuses a display whose lock names a process that still exists, and a killed
    server of ours exists as a zombie until it is reaped: restarting at once fails with "Server
    is already active". False when it is still there after ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while _lock_holder_exists(display):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _lock_holder_exists(display: int) -> bool:
    """Whether the display's lock file names a process that exists (zombies included)."""
    try:
        holder = int(Path(f"/tmp/.X{display}-lock").read_text().strip() or 0)
    except (OSError, ValueError):
        return False  # no lock, or not one to judge: the X server decides
    if holder <= 0:
        return False
    try:
        os.kill(holder, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])
