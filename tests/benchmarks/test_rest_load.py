"""Load on the portal API: 50 concurrent clients against a real `visa serve` over loopback.

Prints requests/s and p50/p99 latency for GET /api/account, GET /api/account/instances (a user
with 20 instances, each with members and an experiment) and POST /api/account/instances, as
ratios to GET /api/health measured in the same run, and the SQL statements per request (counted
in-process on the same database after the load).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from visa_platform.db import migrate
from visa_platform.db.models import Instance, InstanceMember, User
from visa_platform.db.models.instances import instance_experiment
from visa_platform.domain.enums import InstanceMemberRole, InstanceState
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase, engine_for
from visa_platform.testing.servers import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))  # instance_fixtures

CLIENTS = 50
REQUESTS = 400  # per endpoint


async def seed(db: TestDatabase, settings: Any) -> dict[str, str]:
    """Users, a plan and 20 instances of user 1001 with two extra members and an experiment."""
    from instance_fixtures import build_facility

    engine = engine_for(db)
    try:
        await migrate.upgrade(engine, db.schema)
        from visa_platform.db.engine import session_factory

        async with session_factory(engine)() as session:
            facility = await build_facility(session)
            await session.execute(update(User).values(instance_quota=-1))
            for i in range(20):
                instance = Instance(
                    uid=f"load{i:04d}",
                    name=f"vm{i}",
                    plan_id=facility.plan.id,
                    state=InstanceState.ACTIVE,
                    screen_width=1280,
                    screen_height=1024,
                    keyboard_layout="en-gb-qwerty",
                )
                session.add(instance)
                await session.flush()
                session.add_all(
                    [
                        InstanceMember(
                            instance_id=instance.id, user_id="1001", role=InstanceMemberRole.OWNER
                        ),
                        InstanceMember(
                            instance_id=instance.id, user_id="1002", role=InstanceMemberRole.USER
                        ),
                        InstanceMember(
                            instance_id=instance.id, user_id="1003", role=InstanceMemberRole.GUEST
                        ),
                    ]
                )
                await session.execute(
                    instance_experiment.insert().values(
                        experiment_id="e-1", instance_id=instance.id
                    )
                )
            await session.commit()
            return {"plan": str(facility.plan.id)}
    finally:
        await engine.dispose()


async def drive(client: httpx.AsyncClient, method: str, path: str, **options: Any) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(REQUESTS):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            response = await client.request(method, path, **options)
            latencies.append(time.perf_counter() - start)
            assert response.status_code < 300, (path, response.status_code, response.text[:200])

    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    return latencies


def summary(
    name: str, latencies: list[float], elapsed: float, baseline: float | None, statements: int
) -> str:
    ordered = sorted(latencies)
    rate = len(ordered) / elapsed
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    ratio = f"{rate / baseline:.2f}x health" if baseline else "baseline"
    return (
        f"{name:<32} {rate:8.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
        f"  {statements:3d} SQL/request  ({ratio})"
    )


async def statements_per_request(settings: Any, cases: list[tuple[Any, ...]]) -> list[int]:
    """SQL statements of one request of each case, in-process on the same data (in order)."""
    from sqlalchemy import event

    from visa_platform.app import create_app
    from visa_platform.runtime import runtime

    counts = []
    app = create_app(settings)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        engine = runtime(app).engine.sync_engine  # type: ignore[union-attr]
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        for _, method, path, options in cases:
            await client.open(path, method=method, **options)  # warm caches (the principal)
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                response = await client.open(path, method=method, **options)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert response.status_code < 300, (path, response.status_code)
            counts.append(len(statements))
    return counts


@pytest.mark.bench
@pytest.mark.parametrize("db_backend", ["postgresql"])
async def test_portal_api_under_load(test_database: TestDatabase, tmp_path: Path) -> None:
    from instance_fixtures import creation, instance_settings

    settings = instance_settings(test_database, tmp_path)
    await seed(test_database, settings)
    accounts = StaticAccounts(settings)
    token = bearer(accounts.add("1001"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(
        VISA_DATABASE_URL=test_database.url,
        VISA_DATABASE_SCHEMA=test_database.schema,
        VISA_DATA_DIR=str(tmp_path / "data"),
        VISA_ACCOUNTS_PROVIDER="static",
        VISA_ACCOUNTS_STATIC_ALLOW_POSTGRESQL="true",
        VISA_LOGGING_ACCESS_LOG_ENABLED="false",
        VISA_DEFAULT_CLOUD_PROVIDER_TYPE="null",
        VISA_SCHEDULER_ENABLED="false",
        VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS='[{"layout":"en-gb-qwerty","name":"UK","selected":true}]',
    )
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "visa_platform.cli.main",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    lines = []
    try:
        # Idle connections are dropped before Hypercorn's 5 s keep-alive timeout closes them, or
        # a request can go out on a connection the server is closing ("Server disconnected").
        limits = httpx.Limits(
            max_connections=CLIENTS, max_keepalive_connections=CLIENTS, keepalive_expiry=2.0
        )
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            for _ in range(200):
                try:
                    if (await client.get("/api/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            plan = int((await client.get("/api/plans", headers=token)).json()["data"][0]["id"])
            cases = [
                ("GET /api/health", "GET", "/api/health", {}),
                ("GET /api/account", "GET", "/api/account", {"headers": token}),
                (
                    "GET /api/account/instances (20)",
                    "GET",
                    "/api/account/instances",
                    {"headers": token},
                ),
                (
                    "POST /api/account/instances",
                    "POST",
                    "/api/account/instances",
                    {"headers": token, "json": creation(plan, ["e-1"])},
                ),
            ]
            runs = []
            for _, method, path, options in cases:
                start = time.perf_counter()
                latencies = await drive(client, method, path, **options)
                runs.append((latencies, time.perf_counter() - start))
            # counted after the load (so it does not change the data under load)
            counts = await statements_per_request(settings, cases)
            baseline = None
            for (name, *_), (latencies, elapsed), statements in zip(
                cases, runs, counts, strict=True
            ):
                lines.append(summary(name, latencies, elapsed, baseline, statements))
                baseline = baseline or len(latencies) / elapsed
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)
    print("\n" + "\n".join(lines))
    assert len(lines) == 4
