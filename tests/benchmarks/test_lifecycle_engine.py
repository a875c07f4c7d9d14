"""10,000 instances on the fake OpenStack: one state-sync pass and one lifecycle pass.

Baseline (same run, same database, same fake): the unavoidable reads of a pass, done raw: one
GET of every server in a single response (page size raised to 10,000), decoded with ``json``,
plus one SELECT of the 10,000 instance rows. Measured, per pass: time, ratio to the baseline,
SQL statements and cloud HTTP calls. Statements and calls are bounded per page of instances
(500), not per instance; the test asserts it.

State sync: a first pass where every instance changes (BUILDING -> ACTIVE, port check, bulk
update, events) and a steady pass where nothing changes (port checks still run: every instance
is active). Lifecycle: a pass that creates 1,000 lifetime expirations (and queues their
warnings), then a steady pass. The fake OpenStack runs in this process, so a pass's time
includes the fake serving its 10 pages; the cloud listing alone is measured too, and the target
(a steady pass under 2 s) is asserted on the pass without it, in CPU time (the machine is shared:
wall-clock time varies with the load of the others).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_openstack import plugin as openstack_plugin
from visa_platform.compute import BackendConfig, CloudClients
from visa_platform.config import Settings
from visa_platform.db.engine import session_factory
from visa_platform.db.models import Flavour, Image, Instance, InstanceMember, Plan, Protocol, User
from visa_platform.db.seed import seed_fixtures
from visa_platform.domain.enums import InstanceMemberRole, InstanceState
from visa_platform.events.broker import LocalBroker
from visa_platform.plugin import PluginHost
from visa_platform.scheduler import ManualClock
from visa_platform.services.instance_actions import EngineContext
from visa_platform.services.instance_states import PAGE_SIZE, sync_states
from visa_platform.testing.fake_openstack import FakeOpenStack

INSTANCES = 10_000
PAGES = INSTANCES // PAGE_SIZE
TARGET_SECONDS = 2.0


class Counter:
    """SQL statements sent through an engine while ``counting``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements = 0
        self._on = False

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(*args: Any) -> None:
            if self._on:
                self.statements += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.statements = 0
        self._on = True
        try:
            yield
        finally:
            self._on = False


async def seed(sessions: Any, cloud: FakeOpenStack, clock: ManualClock) -> None:
    """10,000 BUILDING instances of one user, each on an ACTIVE server of the fake."""
    servers = cloud.add_servers(INSTANCES, status="ACTIVE")
    now = clock.now()
    async with sessions() as session:
        await seed_fixtures(session)
        guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
        image = Image(name="Desktop", icon="d.png", compute_id=cloud.images[0]["id"], visible=True)
        image.protocols = [guacd]
        flavour = Flavour(name="Small", cpu=1, memory=2048, compute_id="1")
        plan = Plan(image=image, flavour=flavour, preset=True)
        session.add_all(
            [
                plan,
                User(id="1001", first_name="Ada", last_name="Lovelace", email="ada@example.org"),
            ]
        )
        await session.flush()
        await session.execute(
            insert(Instance),
            [
                {
                    "id": n + 1,
                    "uid": f"u{n:07d}",
                    "name": f"desktop {n}",
                    "plan_id": plan.id,
                    "username": "ada",
                    "state": InstanceState.BUILDING,
                    "screen_width": 1280,
                    "screen_height": 1024,
                    "keyboard_layout": "en-gb-qwerty",
                    "last_seen_at": now,
                    "compute_id": servers[n],
                    "delete_requested": False,
                    # one in ten within the 48 h lifetime warning, the others far away
                    "termination_date": now + timedelta(hours=47 if n % 10 == 0 else 300),
                }
                for n in range(INSTANCES)
            ],
        )
        await session.execute(
            insert(InstanceMember),
            [
                {"instance_id": n + 1, "user_id": "1001", "role": InstanceMemberRole.OWNER}
                for n in range(INSTANCES)
            ],
        )
        await session.commit()


async def baseline(cloud: FakeOpenStack, engine: AsyncEngine) -> float:
    """Seconds for the raw reads: every server in one GET, every instance row in one SELECT."""
    cloud.page_size = INSTANCES
    token = next(iter(cloud.tokens))
    async with httpx.AsyncClient(timeout=60) as http:
        start = time.perf_counter()
        response = await http.get(
            f"{cloud.compute_endpoint}/v2.1/servers/detail",
            params={"limit": INSTANCES},
            headers={"X-Auth-Token": token},
        )
        assert len(response.json()["servers"]) == INSTANCES
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, state, compute_id FROM instance"))).all()
        elapsed = time.perf_counter() - start
    assert len(rows) == INSTANCES
    cloud.page_size = 1000  # Nova's default, for the passes
    return elapsed


@pytest.mark.bench
async def test_ten_thousand_instances_state_sync_and_lifecycle(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    from visa_platform.services.lifecycle import run_lifecycle

    sessions = session_factory(db_engine)
    counter = Counter(db_engine)
    clock = ManualClock()

    async def desktop_port_open(host: str, port: int, seconds: float) -> bool:
        return True

    async with FakeOpenStack() as cloud:
        cloud.limits["maxTotalInstances"] = INSTANCES
        await seed(sessions, cloud, clock)
        host = PluginHost()
        host.register(openstack_plugin, "openstack")
        clouds = CloudClients(host.compute_backends)
        client = clouds.add(
            BackendConfig(
                cloud_id=None,
                name="bench",
                type="openstack",
                parameters=cloud.parameters(),
                server_name_prefix="VISA",
                read_timeout=60,
            )
        )
        assert client is not None
        await client.backend.limits()  # authenticate and discover once, outside the measurement
        ctx = EngineContext(
            sessions=sessions,
            clouds=clouds,
            plugins=PluginHost(),
            broker=LocalBroker(),
            settings=settings,
            clock=clock,
            probe=desktop_port_open,
        )
        raw = await baseline(cloud, db_engine)

        lines = [f"{INSTANCES} instances ({db_engine.dialect.name}); baseline {raw:.3f}s"]
        results: dict[str, tuple[float, int, int, Any]] = {}
        cpu: dict[str, float] = {}
        passes: list[tuple[str, Any]] = [
            ("cloud listing alone", client.backend.list_instances),
            ("state sync, all change", lambda: sync_states(ctx)),
            ("state sync, steady", lambda: sync_states(ctx)),
            ("lifecycle, 1,000 warned", lambda: run_lifecycle(ctx)),
            ("lifecycle, steady", lambda: run_lifecycle(ctx)),
        ]
        for name, run in passes:
            before = len(cloud.requests)
            with counter.counting():
                start, start_cpu = time.perf_counter(), time.process_time()
                report = await run()
                elapsed = time.perf_counter() - start
                cpu[name] = time.process_time() - start_cpu
            calls = len(cloud.requests) - before
            results[name] = (elapsed, counter.statements, calls, report)
            lines.append(
                f"  {name:<24} {elapsed:6.3f}s ({cpu[name]:6.3f}s CPU)  {elapsed / raw:5.1f}x "
                f"baseline  {counter.statements:4d} SQL  {calls:3d} cloud calls"
            )
        await clouds.close()
    print("\n" + "\n".join(lines))

    first, steady = results["state sync, all change"], results["state sync, steady"]
    engine_share = steady[0] - results["cloud listing alone"][0]
    engine_cpu = cpu["state sync, steady"] - cpu["cloud listing alone"]
    print(
        f"  steady state-sync pass without the cloud listing (the fake OpenStack serves it in "
        f"this process): {engine_share:.3f}s ({engine_cpu:.3f}s CPU)"
    )
    assert first[3].instances == INSTANCES and first[3].changed == INSTANCES
    assert steady[3].changed == 0
    assert results["lifecycle, 1,000 warned"][3].lifetime_warnings == INSTANCES // 10
    assert results["lifecycle, steady"][3].lifetime_warnings == 0
    for _elapsed, statements, calls, _ in list(results.values())[1:]:
        assert statements <= 8 * (PAGES + 1), "SQL statements must be bounded per page"
        assert calls <= INSTANCES // 1000 + 1, "one cloud listing per pass, page by page"
    # CPU time: the machine is shared, wall-clock time varies with the others' load
    assert engine_cpu < TARGET_SECONDS, f"steady state-sync pass {engine_cpu:.2f}s CPU"
    assert steady[0] / raw < 6, f"steady state-sync pass {steady[0] / raw:.1f}x the raw reads"
