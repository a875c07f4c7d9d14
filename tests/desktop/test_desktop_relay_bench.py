"""Relay cost: guacd -> browser through our server, against reading guacd over TCP directly.

Run with ``pytest tests/desktop/test_desktop_relay_bench.py -m bench -s``. It prints the
throughput ratio (relay / direct) for a stream of image blobs and the added latency (p50, p99)
of single small instructions, both measured in the same run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from desktop_rig import OWNER, build_desk, guac

from visa_platform.app import create_app
from visa_platform.testing.fake_guacd import FakeConnection, FakeGuacd
from visa_platform.testing.servers import serve_asgi

BLOBS = 2_000
BLOB = guac("blob", 1, "A" * 6048)
END = guac("end", "bench")
PINGS = 300


async def direct_client(
    guacd: FakeGuacd,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, FakeConnection]:
    reader, writer = await asyncio.open_connection(guacd.host, guacd.port)
    writer.write(guac("select", "rdp").encode())
    data = b""
    while b";" not in data:
        data += await reader.read(65536)
    writer.write(guac("connect", *([""] * (len(guacd.arg_names) + 1))).encode())
    data = b""
    while b"4.sync," not in data:  # ready and the first display
        data += await reader.read(65536)
    connection_id = guacd.handshakes[-1].connection_id
    assert connection_id is not None
    return reader, writer, guacd.connection(connection_id)


async def read_until(receive: Any, marker: str) -> int:
    size, tail = 0, ""
    while True:
        chunk = await receive()
        size += len(chunk)
        tail = (tail + chunk)[-64:]
        if marker in tail:
            return size


@pytest.mark.bench
async def test_relay_throughput_and_latency(
    settings: Any, fake_guacd: FakeGuacd, db_engine: Any
) -> None:
    app = create_app(settings)
    async with serve_asgi(app) as base, aiohttp.ClientSession() as http:
        desk = await build_desk(SimpleNamespace(app=app, test_client=app.test_client), fake_guacd)
        url = base.replace("http", "ws") + f"/api/ws/vdi/{await desk.ticket(OWNER)}/b/guacamole"
        async with http.ws_connect(url, protocols=("guacamole",), max_msg_size=0) as ws:
            text = ""
            while "4.sync," not in text:
                text += await ws.receive_str(timeout=10)
            relayed = next(iter(fake_guacd.connections.values()))
            reader, writer, direct = await direct_client(fake_guacd)

            async def tcp() -> str:
                return (await reader.read(65536)).decode()

            async def websocket() -> str:
                return await ws.receive_str(timeout=30)

            async def throughput(connection: FakeConnection, receive: Any) -> float:
                start = time.perf_counter()
                sending = asyncio.ensure_future(connection.send(*([BLOB] * BLOBS), END))
                size = await asyncio.wait_for(read_until(receive, END), 120)
                await sending
                return size / (time.perf_counter() - start)

            async def latencies(connection: FakeConnection, receive: Any) -> list[float]:
                out = []
                for i in range(PINGS):
                    marker = guac("sync", i)
                    start = time.perf_counter()
                    await connection.send(marker)
                    await asyncio.wait_for(read_until(receive, marker), 10)
                    out.append(time.perf_counter() - start)
                return out

            tcp_rate = await throughput(direct, tcp)
            relay_rate = await throughput(relayed, websocket)
            tcp_lat = sorted(await latencies(direct, tcp))
            relay_lat = sorted(await latencies(relayed, websocket))
            writer.close()

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(len(values) * p))] * 1000

    ratio = relay_rate / tcp_rate
    print(
        f"\nrelay throughput {relay_rate / 1e6:.1f} MB/s, direct TCP {tcp_rate / 1e6:.1f} MB/s,"
        f" ratio {ratio:.2f}\nlatency p50 relay {pct(relay_lat, 0.5):.2f} ms"
        f" / direct {pct(tcp_lat, 0.5):.2f} ms, p99 relay {pct(relay_lat, 0.99):.2f} ms"
        f" / direct {pct(tcp_lat, 0.99):.2f} ms"
        f" (mean added {1000 * (statistics.mean(relay_lat) - statistics.mean(tcp_lat)):.2f} ms)"
    )
    assert relay_rate > 0 and tcp_rate > 0


@pytest.mark.bench
async def test_memory_per_idle_session(
    settings: Any, fake_guacd: FakeGuacd, db_engine: Any
) -> None:
    """Python heap growth per idle desktop client (server, client and fake in one process)."""
    import tracemalloc

    sessions = 100
    app = create_app(settings)
    connector = aiohttp.TCPConnector(limit=0)  # the default pool stops at 100 sockets
    async with serve_asgi(app) as base, aiohttp.ClientSession(connector=connector) as http:
        desk = await build_desk(SimpleNamespace(app=app, test_client=app.test_client), fake_guacd)
        root = base.replace("http", "ws")

        async def open_tab(i: int) -> Any:
            url = f"{root}/api/ws/vdi/{await desk.ticket(OWNER)}/tab-{i}/guacamole"
            ws = await http.ws_connect(url, protocols=("guacamole",))
            text = ""
            while "4.sync," not in text:
                text += await ws.receive_str(timeout=10)
            return ws

        first = await open_tab(0)  # warm up: imports, caches, the guacd connection
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tabs = [await open_tab(i) for i in range(1, sessions + 1)]
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert len(desk.service.members) == sessions + 1
        for ws in [first, *tabs]:
            await ws.close()
        await desk.settle()
    per_session = (after - before) / sessions
    print(f"\n{sessions} idle desktop clients: {per_session / 1024:.1f} KiB each (Python heap)")
    assert per_session > 0
