"""The ``local`` compute backend: each instance is a TigerVNC X server plus a session command.

An instance gets its own display number and its own loopback address (``127.77.0.x`` by
default), where its VNC server listens on the usual port 5900, so the engine's port checks and
the desktop relay reach it exactly as they reach a cloud server. The VNC server asks for a
per-instance password that only the server knows (:meth:`LocalBackend.vnc_secret`); the X
display needs the instance's own X authority cookie.

Instances live in the state directory (one directory each, see :mod:`visa_local.records`) and
in the processes themselves: a restarted server finds them again, and stops what belongs to
instances it no longer knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from visa_local import processes
from visa_local.records import InstanceRecord, RecordStore
from visa_local.settings import LocalImage, LocalSettings
from visa_platform.compute import (
    BackendConfig,
    Capability,
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudInstanceFault,
    CloudLimit,
    CloudNotFoundError,
    CloudRejectedError,
    CloudUnavailableError,
    ComputeBackend,
    InstanceRequest,
)
from visa_platform.domain.enums import CloudInstanceState as S

log = logging.getLogger("visa_local")

LOG_FILE = "desktop.log"
PASSWORD_FILE = "vnc-password"
SECRET_FILE = "vnc-secret"
XAUTHORITY_FILE = "xauthority"
SCREEN_LIMITS = (320, 7680)


class LocalBackend(ComputeBackend):
    capabilities = frozenset(
        {Capability.START_STOP, Capability.REBOOT, Capability.LIMITS, Capability.CATALOGUE}
    )

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.settings = LocalSettings.from_config(config)
        self.store = RecordStore(self.settings.state_directory)
        self.store.ensure()
        self._allocation = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        self._rebooting: set[str] = set()
        self._ready: dict[str, int] = {}  # instance id -> VNC pid seen accepting connections
        self._started: dict[str, float] = {}  # instance id -> monotonic time of the last start
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconciled = False

    @classmethod
    def from_config(cls, config: BackendConfig) -> LocalBackend:
        return cls(config)

    # -- identity of processes --------------------------------------------------------------

    @property
    def _prefix(self) -> str:
        return f"{self.settings.state_directory}#"

    def _key(self, instance_id: str) -> str:
        """The marker value in the environment of the instance's processes."""
        return f"{self._prefix}{instance_id}"

    def _lock(self, instance_id: str) -> asyncio.Lock:
        return self._locks.setdefault(instance_id, asyncio.Lock())

    async def reconcile(self) -> list[str]:
        """Once per process: stop what a previous server left without a record, or powered off.

        Returns the instance ids whose processes were stopped.
        """
        if self._reconciled:
            return []
        self._reconciled = True
        records = {r.id: r for r in self.store.all()}
        stopped = []
        for key, pids in processes.instances_running(self._prefix.encode()).items():
            instance_id = key.removeprefix(self._prefix)
            record = records.get(instance_id)
            if record is not None and record.power == "on":
                continue  # adopted: it keeps running
            log.warning(
                "instance=%s outcome=orphan_stopped pids=%s reason=%s",
                instance_id,
                pids,
                "no record" if record is None else "powered off",
            )
            for pgid in {processes.pgid_of(pid) for pid in pids}:
                await processes.stop_group(pgid, self._key(instance_id))
            stopped.append(instance_id)
        return stopped

    # -- servers ----------------------------------------------------------------------------

    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        await self.reconcile()
        image = self.settings.image(request.image_id)
        if image is None:
            raise CloudRejectedError(
                f"unknown image {request.image_id!r}",
                user_message="The image of this instance is not available on this host.",
            )
        if self.settings.flavour(request.flavour_id) is None:
            raise CloudRejectedError(
                f"unknown flavour {request.flavour_id!r}",
                user_message="The flavour of this instance is not available on this host.",
            )
        width, height = _screen(request.metadata)
        async with self._allocation:
            records = self.store.all()
            if len(records) >= self.settings.max_instances:
                raise CloudRejectedError(
                    f"host full: {len(records)} of {self.settings.max_instances} instances",
                    user_message=(
                        f"This host already runs its maximum of {self.settings.max_instances} "
                        "instances; delete one and try again."
                    ),
                )
            record = InstanceRecord(
                id=f"local-{uuid.uuid4().hex[:12]}",
                name=request.name,
                image_id=image.id,
                flavour_id=request.flavour_id,
                display=self._free_display(records),
                address=self._free_address(records),
                created_at=datetime.now(UTC).isoformat(),
                width=width,
                height=height,
                metadata=dict(request.metadata),
            )
            self.store.save(record)  # claims the display and the address
        async with self._lock(record.id):
            try:
                await self._write_credentials(record)
                await self._start(record, image)
            except Exception as exc:
                # the record stays: the instance shows as ERROR, and delete removes it
                log.error("instance=%s outcome=start_failed error=%r", record.id, str(exc))
        return await self._describe(record)

    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        record = self.store.load(instance_id)
        return None if record is None else await self._describe(record)

    async def list_instances(self) -> list[CloudInstance]:
        await self.reconcile()
        return list(await asyncio.gather(*(self._describe(r) for r in self.store.all())))

    async def start_instance(self, instance_id: str) -> None:
        async with self._lock(instance_id):
            record = self._record(instance_id)
            if record.power == "on" and processes.alive(record.vnc_pid, self._key(record.id)):
                return
            record.power = "on"
            await self._start(record, self._image(record))

    async def shutdown_instance(self, instance_id: str) -> None:
        async with self._lock(instance_id):
            record = self._record(instance_id)
            record.power = "off"
            self.store.save(record)
            await self._stop(record)

    async def reboot_instance(self, instance_id: str) -> None:
        async with self._lock(instance_id):
            record = self._record(instance_id)
            self._rebooting.add(instance_id)
            try:
                await self._stop(record)
                record.power = "on"
                await self._start(record, self._image(record))
            except Exception:
                self._rebooting.discard(instance_id)
                raise

    async def delete_instance(self, instance_id: str) -> None:
        async with self._lock(instance_id):
            record = self._record(instance_id)
            record.power = "off"
            self.store.save(record)
            await self._stop(record)
            shutil.rmtree(self.store.directory(instance_id), ignore_errors=True)
        self._locks.pop(instance_id, None)
        self._rebooting.discard(instance_id)

    async def ip_address(self, instance_id: str) -> str | None:
        return self._record(instance_id).address

    # -- catalogue and limits ---------------------------------------------------------------

    async def images(self) -> list[CloudImage]:
        return [CloudImage(id=i.id, name=i.name) for i in self.settings.images]

    async def flavours(self) -> list[CloudFlavour]:
        return list(self.settings.flavours)

    async def limits(self) -> CloudLimit | None:
        records = self.store.all()
        flavours = [self.settings.flavour(r.flavour_id) for r in records if r.power == "on"]
        return CloudLimit(
            max_total_ram_size=_memory_mb(),
            total_ram_used=sum(f.ram for f in flavours if f),
            max_total_instances=self.settings.max_instances,
            total_instances_used=len(records),
            max_total_cores=os.cpu_count() or 1,
            total_cores_used=int(sum(f.cpus for f in flavours if f)),
        )

    # -- for the desktop relay --------------------------------------------------------------

    def vnc_secret(self, instance_id: str) -> str:
        """The VNC password of the instance (the relay authenticates with it)."""
        secret = self.store.read_private(instance_id, SECRET_FILE)
        if secret is None:
            raise CloudNotFoundError(f"instance {instance_id} not found")
        return secret.decode()

    async def desktop_credentials(self, instance_id: str, protocol: str) -> dict[str, str]:
        """The VNC password for the ``vnc`` desktop protocol (the relay authenticates with it)."""
        return {"vncPassword": self.vnc_secret(instance_id)} if protocol == "vnc" else {}

    def display_of(self, instance_id: str) -> tuple[str, Path]:
        """``DISPLAY`` and ``XAUTHORITY`` values of the instance (tools, tests)."""
        record = self._record(instance_id)
        return f":{record.display}", self.store.directory(instance_id) / XAUTHORITY_FILE

    async def purge(self) -> int:
        """Delete every instance of this state directory and stop any process left without a
        record (tests, decommissioning a host); how many instances there were."""
        records = self.store.all()
        for record in records:
            await self.delete_instance(record.id)
        for key, pids in processes.instances_running(self._prefix.encode()).items():
            for pgid in {processes.pgid_of(pid) for pid in pids}:
                await processes.stop_group(pgid, key)
        return len(records)

    async def close(self) -> None:
        """Instances keep running: the next server adopts them."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    # -- internals --------------------------------------------------------------------------

    def _record(self, instance_id: str) -> InstanceRecord:
        record = self.store.load(instance_id)
        if record is None:
            raise CloudNotFoundError(f"instance {instance_id} not found")
        return record

    def _image(self, record: InstanceRecord) -> LocalImage:
        image = self.settings.image(record.image_id)
        if image is None:
            raise CloudRejectedError(
                f"image {record.image_id!r} is no longer configured",
                user_message="The image of this instance is not available on this host.",
            )
        return image

    def _free_display(self, records: Iterable[InstanceRecord]) -> int:
        taken = {r.display for r in records}
        display = self.settings.first_display
        while display in taken or not processes.display_free(display):
            display += 1
        return display

    def _free_address(self, records: Iterable[InstanceRecord]) -> str:
        taken = {r.address for r in records}
        for host in self.settings.network.hosts():
            address = str(host)
            if address not in taken and processes.address_free(address, self.settings.vnc_port):
                return address
        raise CloudUnavailableError(f"no free address left in {self.settings.network}")

    async def _write_credentials(self, record: InstanceRecord) -> None:
        secret = secrets.token_urlsafe(6)[:8]  # VNC authentication uses 8 characters
        self.store.private_file(record.id, SECRET_FILE, secret.encode())
        obfuscated = await _run(
            [self.settings.binaries["tigervncpasswd"], "-f"], stdin=secret.encode()
        )
        self.store.private_file(record.id, PASSWORD_FILE, obfuscated)
        authority = self.store.private_file(record.id, XAUTHORITY_FILE, b"")
        await _run(
            [
                self.settings.binaries["xauth"],
                "-f",
                str(authority),
                "add",
                f":{record.display}",
                "MIT-MAGIC-COOKIE-1",
                secrets.token_hex(16),
            ]
        )

    def _environment(self, record: InstanceRecord) -> dict[str, str]:
        home = self.store.directory(record.id) / "home"
        home.mkdir(mode=0o700, exist_ok=True)
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "HOME": str(home),
            "DISPLAY": f":{record.display}",
            "XAUTHORITY": str(self.store.directory(record.id) / XAUTHORITY_FILE),
            "VISA_INSTANCE_NAME": record.name,
            processes.MARKER: self._key(record.id),
        }

    async def _start(self, record: InstanceRecord, image: LocalImage) -> None:
        """Start the VNC X server now and the session command once the display is up."""
        directory = self.store.directory(record.id)
        argv = [
            self.settings.binaries["Xtigervnc"],
            f":{record.display}",
            "-rfbport",
            str(self.settings.vnc_port),
            "-interface",
            record.address,
            "-localhost=0",
            "-SecurityTypes",
            "VncAuth",
            "-rfbauth",
            str(directory / PASSWORD_FILE),
            "-auth",
            str(directory / XAUTHORITY_FILE),
            "-geometry",
            f"{record.width}x{record.height}",
            "-depth",
            "24",
            "-nolisten",
            "tcp",
            "-desktop",
            record.name,
            "-AlwaysShared",
        ]
        environment = self._environment(record)
        if not await processes.display_released(record.display):
            raise CloudUnavailableError(f"display :{record.display} is still held by a process")
        self._started[record.id] = time.monotonic()
        self._ready.pop(record.id, None)
        record.vnc_pid = await processes.spawn(argv, log=directory / LOG_FILE, env=environment)
        record.session_pid = None
        self.store.save(record)
        task = asyncio.get_running_loop().create_task(
            self._start_session(record.id, record.vnc_pid, image, environment)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        log.info(
            "instance=%s outcome=started display=:%s address=%s",
            record.id,
            record.display,
            record.address,
        )

    async def _start_session(
        self, instance_id: str, vnc_pid: int, image: LocalImage, environment: dict[str, str]
    ) -> None:
        display = int(environment["DISPLAY"][1:])
        deadline = time.monotonic() + self.settings.start_timeout
        while not await processes.display_ready(display, 0.2):
            if not processes.alive(vnc_pid, self._key(instance_id)):
                log.warning("instance=%s outcome=session_not_started reason=exited", instance_id)
                return  # shown as ERROR by the state
            if time.monotonic() > deadline:
                log.warning("instance=%s outcome=session_not_started reason=timeout", instance_id)
                return
            await asyncio.sleep(0.05)
        async with self._lock(instance_id):
            record = self.store.load(instance_id)
            if record is None or record.power != "on" or record.vnc_pid != vnc_pid:
                log.info("instance=%s outcome=session_not_started reason=changed", instance_id)
                return
            record.session_pid = await processes.spawn(
                ["/bin/sh", "-c", image.command],
                log=self.store.directory(instance_id) / LOG_FILE,
                env=environment,
                cwd=Path(environment["HOME"]),
            )
            self.store.save(record)

    async def _stop(self, record: InstanceRecord) -> None:
        key = self._key(record.id)
        await processes.stop_group(record.session_pid, key)
        await processes.stop_group(record.vnc_pid, key)
        self._ready.pop(record.id, None)
        record.vnc_pid = record.session_pid = None
        if self.store.directory(record.id).is_dir():
            self.store.save(record)

    async def _state(self, record: InstanceRecord) -> tuple[S, CloudInstanceFault | None]:
        key = self._key(record.id)
        running = processes.alive(record.vnc_pid, key)
        if record.power == "off":
            return (S.STOPPING if running else S.STOPPED), None
        if not running:
            self._rebooting.discard(record.id)
            reason = processes.log_tail(self.store.directory(record.id) / LOG_FILE)
            return S.ERROR, CloudInstanceFault(
                message="the desktop's processes are not running", details=reason or None
            )
        if self._ready.get(record.id) == record.vnc_pid or await processes.port_open(
            record.address, self.settings.vnc_port, 0.3
        ):
            self._ready[record.id] = record.vnc_pid or 0
            self._rebooting.discard(record.id)
            return S.ACTIVE, None
        if record.id in self._rebooting:
            return S.REBOOTING, None
        started = self._started.get(record.id)
        if started is not None and time.monotonic() - started > self.settings.start_timeout:
            return S.ERROR, CloudInstanceFault(message="the VNC server does not answer")
        return S.BUILDING, None

    async def _describe(self, record: InstanceRecord) -> CloudInstance:
        state, fault = await self._state(record)
        return CloudInstance(
            id=record.id,
            name=record.name,
            state=state,
            address=record.address,
            image_id=record.image_id,
            flavour_id=record.flavour_id,
            created_at=record.created,
            fault=fault,
            metadata=record.metadata,
        )


async def purge_directory(state_directory: Path) -> int:
    """:meth:`LocalBackend.purge` for the instances recorded under ``state_directory``."""
    backend = LocalBackend(
        BackendConfig(
            cloud_id=None,
            name="purge",
            type="local",
            parameters={"stateDirectory": str(state_directory)},
        )
    )
    try:
        return await backend.purge()
    finally:
        await backend.close()


async def _run(argv: list[str], stdin: bytes | None = None) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin)
    if process.returncode != 0:
        raise CloudUnavailableError(
            f"{Path(argv[0]).name} failed ({process.returncode}): {err.decode().strip()}"
        )
    return out


def _screen(metadata: Mapping[str, str]) -> tuple[int, int]:
    """The screen size the user asked for (VISA's metadata), within sane bounds."""
    low, high = SCREEN_LIMITS
    size = []
    for key, default in (("screenWidth", 1280), ("screenHeight", 1024)):
        try:
            value = int(metadata.get(key, default))
        except (TypeError, ValueError):
            value = default
        size.append(min(max(value, low), high))
    return size[0], size[1]


def _memory_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return 0


__all__ = ["LocalBackend", "purge_directory"]
