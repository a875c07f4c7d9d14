"""The desktop relay against its limit and against websockify, measured in one run.

``pytest tests/benchmarks/test_desktop_relay.py -m bench -s`` prints, for a stream of Guacamole
instructions (6 KiB image blobs) sent by the fake guacd to one client, three ways:

* **direct**: the client reads guacd's TCP socket itself (the limit);
* **relay**: through our server (``visa serve`` in its own process), websocket ``/api/ws/vdi/...``;
* **websockify**: through websockify (PyPI) in its own process, the common websocket-to-TCP peer.

It reports throughput (best of ``ROUNDS``, each way in turn), the latency of single small
instructions (p50, p99), and the memory one idle session costs each peer with ``SESSIONS``
sessions open (proportional set size of the peer's processes, so a forked child's shared pages
are counted once). The fake guacd and the client share this process; each peer has its own.
Throughput varies from run to run on a shared machine; the CPU time each peer spends per MB
relayed (user + system, from /proc) is the steadier comparison.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from visa_platform.db.engine import session_factory
from visa_platform.db.models import (
    InstanceAuthenticationToken,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.testing.databases import TestDatabase, engine_for
from visa_platform.testing.desktops import add_desktop_instance
from visa_platform.testing.fake_guacd import FakeConnection, FakeGuacd
from visa_platform.testing.servers import free_port

BLOBS = 20_000  # 6 KiB each: about 120 MB per round
ROUNDS = 3
#: Image data as guacd sends it: base64 of compressed (random-looking) bytes, a cycle of
#: distinct blobs longer than deflate's 32 KiB window.
BLOB_CYCLE = [f"4.blob,1.1,6048.{base64.b64encode(os.urandom(4536)).decode()};" for _ in range(8)]
BLOB_SIZE = len(BLOB_CYCLE[0])
#: What a browser offers: permessage-deflate (aiohttp's ``compress=15``).
BROWSER_COMPRESS = 15
END = "3.end,5.bench;"
PINGS = 300
SESSIONS = 100
OWNER = "2001"

Receive = Callable[[], Awaitable[str]]
Tickets = Callable[[int], Awaitable[list[str]]]


def guac(opcode: str, *args: object) -> str:
    return ",".join(f"{len(s)}.{s}" for s in (opcode, *map(str, args))) + ";"


def family(pid: int) -> list[int]:
    """``pid`` and its children (websockify forks one per connection)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid] + ([int(p) for p in children.read_text().split()] if children.exists() else [])


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user, system) used so far by ``pid`` and its live children."""
    user = system = 0
    for one in family(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def pss_kib(pid: int) -> int:
    """Proportional set size of ``pid`` and its children, in KiB."""
    total = 0
    for one in family(pid):
        try:
            text = Path(f"/proc/{one}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:"))
    return total


def log_file(path: Path) -> Any:
    return path.open("wb")


@asynccontextmanager
async def running(argv: list[str], port: int, env: dict[str, str], log: Path) -> AsyncIterator[int]:
    """Run a peer process until the block ends; yields its pid once it listens on ``port``."""
    with log_file(log) as out:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                except OSError:
                    if process.returncode is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{argv[0]} did not start on port {port}") from None
                    await asyncio.sleep(0.1)
            yield process.pid
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def server_env(db: TestDatabase, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(
        VISA_DATABASE_URL=db.url,
        VISA_DATABASE_SCHEMA=db.schema,
        VISA_DATA_DIR=str(data_dir),
        VISA_ACCOUNTS_STATIC_ALLOW_POSTGRESQL="true",
        VISA_SCHEDULER_ENABLED="false",
        VISA_LOGGING_LEVEL="WARNING",
    )
    return env


@asynccontextmanager
async def seeded(db: TestDatabase, guacd: FakeGuacd) -> AsyncIterator[Tickets]:
    """An ACTIVE instance at 127.0.0.1 whose GUACD port is the fake; yields a ticket factory."""
    engine = engine_for(db)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            instance = await add_desktop_instance(
                session,
                protocol="GUACD",
                port=guacd.port,
                people={OWNER: ("Ada", "Bench")},
                members={OWNER: InstanceMemberRole.OWNER},
                uid="bench001",
            )
            instance_id = instance.id

        async def tickets(count: int) -> list[str]:
            made = [f"bench-{time.time_ns()}-{i}" for i in range(count)]
            async with sessions() as session:
                session.add_all(
                    InstanceAuthenticationToken(
                        token=t, instance_id=instance_id, user_id=OWNER, created_at=utcnow()
                    )
                    for t in made
                )
                await session.commit()
            return made

        yield tickets
    finally:
        await engine.dispose()


async def read_until(receive: Receive, marker: str) -> int:
    size, tail = 0, ""
    while True:
        chunk = await receive()
        size += len(chunk)
        tail = (tail + chunk)[-64:]
        if marker in tail:
            return size


def ws_receiver(ws: aiohttp.ClientWebSocketResponse) -> Receive:
    async def receive() -> str:
        message = await ws.receive(timeout=60)
        if message.type is aiohttp.WSMsgType.TEXT:
            return str(message.data)
        if message.type is aiohttp.WSMsgType.BINARY:
            return bytes(message.data).decode()
        raise ConnectionError(f"websocket ended: {message.type}")

    return receive


async def handshake(
    send: Callable[[str], Awaitable[None]], receive: Receive, arg_count: int
) -> None:
    """What a Guacamole client does itself when no relay speaks to guacd for it."""
    await send(guac("select", "rdp"))
    text = ""
    while ";" not in text:
        text += await receive()
    await send(guac("connect", *([""] * (arg_count + 1))))
    text = ""
    while "4.sync," not in text:
        text += await receive()


async def throughput(connection: FakeConnection, receive: Receive) -> float:
    start = time.perf_counter()
    blobs = itertools.islice(itertools.cycle(BLOB_CYCLE), BLOBS)
    sending = asyncio.ensure_future(connection.send(*blobs, END))
    size = await asyncio.wait_for(read_until(receive, END), 300)
    await sending
    return size / (time.perf_counter() - start)


async def latencies(connection: FakeConnection, receive: Receive) -> list[float]:
    out = []
    for i in range(PINGS):
        marker = guac("sync", 1_000_000 + i)
        start = time.perf_counter()
        await connection.send(marker)
        await asyncio.wait_for(read_until(receive, marker), 10)
        out.append(time.perf_counter() - start)
    return sorted(out)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


@pytest.mark.bench
@pytest.mark.slow
async def test_relay_against_direct_tcp_and_websockify(
    settings: Any, test_database: TestDatabase, fake_guacd: FakeGuacd, tmp_path: Path
) -> None:
    websockify = shutil.which("websockify", path=f"{Path(sys.executable).parent}:{os.defpath}")
    assert websockify, "websockify is part of the dev extra"
    relay_port, proxy_port = free_port(), free_port()
    guacd = fake_guacd
    server = [sys.executable, "-m", "visa_platform.cli.main", "serve", "--port", str(relay_port)]
    proxy = [websockify, f"127.0.0.1:{proxy_port}", f"127.0.0.1:{guacd.port}"]
    env = server_env(test_database, settings.data_dir)
    # websockify as deployed: glibc's default allocator (our server sets its own)
    proxy_env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        running(server, relay_port, env, tmp_path / "server.log") as server_pid,
        running(proxy, proxy_port, proxy_env, tmp_path / "websockify.log") as proxy_pid,
        aiohttp.ClientSession(connector=connector) as http,
        seeded(test_database, guacd) as tickets,
    ):
        relay_url = f"ws://127.0.0.1:{relay_port}/api/ws/vdi/{{}}/{{}}/guacamole"
        proxy_url = f"ws://127.0.0.1:{proxy_port}/"

        # one client each way
        relay_ws = await http.ws_connect(
            relay_url.format((await tickets(1))[0], "bench"),
            protocols=("guacamole",),
            max_msg_size=0,
            compress=BROWSER_COMPRESS,
        )
        relayed_receive = ws_receiver(relay_ws)
        await read_until(relayed_receive, "4.sync,")
        relayed = next(iter(guacd.connections.values()))

        proxy_ws = await http.ws_connect(
            proxy_url, protocols=("binary",), max_msg_size=0, compress=BROWSER_COMPRESS
        )

        async def proxy_send(text: str) -> None:
            await proxy_ws.send_bytes(text.encode())

        proxy_receive = ws_receiver(proxy_ws)
        await handshake(proxy_send, proxy_receive, len(guacd.arg_names))
        proxied = guacd.connection(guacd.handshakes[-1].connection_id or "")

        reader, writer = await asyncio.open_connection(guacd.host, guacd.port)

        async def tcp_send(text: str) -> None:
            writer.write(text.encode())

        async def tcp_receive() -> str:
            data = await reader.read(256 * 1024)
            if not data:
                raise ConnectionError("guacd closed")
            return data.decode()

        await handshake(tcp_send, tcp_receive, len(guacd.arg_names))
        direct = guacd.connection(guacd.handshakes[-1].connection_id or "")

        ways = {
            "direct": (direct, tcp_receive),
            "relay": (relayed, relayed_receive),
            "websockify": (proxied, proxy_receive),
        }
        rates: dict[str, list[float]] = {name: [] for name in ways}
        peers = {"relay": server_pid, "websockify": proxy_pid}
        cpu = {name: [0.0, 0.0] for name in peers}
        for _ in range(ROUNDS):
            for name, (connection, receive) in ways.items():
                before = cpu_seconds(peers[name]) if name in peers else (0.0, 0.0)
                rates[name].append(await throughput(connection, receive))
                if name in peers:
                    after = cpu_seconds(peers[name])
                    cpu[name][0] += after[0] - before[0]
                    cpu[name][1] += after[1] - before[1]
        lat = {name: await latencies(c, r) for name, (c, r) in ways.items()}
        writer.close()

        # memory: SESSIONS more idle clients on each peer
        relay_before = pss_kib(server_pid)
        opened = []
        for ticket in await tickets(SESSIONS):
            ws = await http.ws_connect(
                relay_url.format(ticket, ticket[-12:]), protocols=("guacamole",)
            )
            await read_until(ws_receiver(ws), "4.sync,")
            opened.append(ws)
        await asyncio.sleep(1)
        relay_per = (pss_kib(server_pid) - relay_before) / SESSIONS

        proxy_before = pss_kib(proxy_pid)
        for _ in range(SESSIONS):
            ws = await http.ws_connect(proxy_url, protocols=("binary",))

            async def send(text: str, ws: Any = ws) -> None:
                await ws.send_bytes(text.encode())

            await handshake(send, ws_receiver(ws), len(guacd.arg_names))
            opened.append(ws)
        await asyncio.sleep(1)
        proxy_per = (pss_kib(proxy_pid) - proxy_before) / SESSIONS
        for ws in [*opened, relay_ws, proxy_ws]:
            await ws.close()

    best = {name: max(values) for name, values in rates.items()}
    print()
    for name in ways:
        print(
            f"{name:>10}: {best[name] / 1e6:6.1f} MB/s (rounds"
            f" {', '.join(f'{r / 1e6:.0f}' for r in rates[name])}),"
            f" ratio to direct {best[name] / best['direct']:.2f};"
            f" latency p50 {pct(lat[name], 0.5):.2f} ms, p99 {pct(lat[name], 0.99):.2f} ms"
        )
    relayed = ROUNDS * (BLOB_SIZE * BLOBS + len(END)) / 1e6
    print(
        "peer CPU per MB relayed (user + system): "
        + ", ".join(
            f"{name} {1000 * sum(cpu[name]) / relayed:.2f} ms"
            f" ({1000 * cpu[name][0] / relayed:.2f} + {1000 * cpu[name][1] / relayed:.2f})"
            for name in peers
        )
    )
    print(
        f"memory per idle session ({SESSIONS} open): relay {relay_per:.0f} KiB,"
        f" websockify {proxy_per:.0f} KiB (PSS of the peer's processes)"
    )
    assert all(rate > 0 for rate in best.values())
