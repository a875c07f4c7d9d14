"""Admin GraphQL latency on a large site: 10,000 instances and 5,000 users.

Runs the dashboard query and the instances page query (limit 50, every nested field) through the
full ASGI stack (Quart test client) and prints p50/p99 latency, as ratios to ``{ __typename }``
measured in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from visa_platform.config import load_settings
from visa_platform.db.models import (
    Image,
    Instance,
    InstanceAttribute,
    InstanceMember,
    Protocol,
    User,
)
from visa_platform.db.models.instances import instance_experiment
from visa_platform.db.types import utcnow
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "graphql"))

INSTANCES = 10_000
USERS = 5_000
RUNS = 40

DASHBOARD = """{
  countActivatedUsers countActiveSessions countImages countFlavours countInstances
  countSessions countJupyterSessions hypervisorsAvailable
  countInstancesByImages { id name version total }
  countInstancesByCloudClients { id name total }
  countInstancesByFlavours { id name total }
  countInstancesForStates { state count }
  recentInstances(pagination: {limit: 15, offset: 0}) { data { id name state owner { fullName } } }
  recentActiveUsers(pagination: {limit: 15, offset: 0}) { data { id fullName lastSeenAt } }
}"""


INSTANCES_PAGE = """
query ($p: Pagination!) {
  instances(pagination: $p, orderBy: {name: "id"}) {
    data {
      id name state cloudId
      owner { id fullName affiliation { name } activeUserRoles { role { name } } groups { name } }
      members { id role user { id fullName } }
      experiments { id instrument { name } proposal { identifier } }
      plan {
        id image { id name protocols { name } cloudClient { id name } }
        flavour { id name roleLifetimes { lifetimeMinutes } }
      }
      vdiProtocol { name }
      attributes { name value }
      sessions { id user { id } instanceSession { id instance { id } } }
      activeSessions { id }
      cloudClient { id name }
      deviceAllocations { unitCount }
    }
  }
}
"""


async def seed(session: Any) -> None:
    from graphql_world import build_world

    world = await build_world(session, instance_count=1)
    guacd = await session.scalar(select(Protocol.id).where(Protocol.name == "GUACD"))
    image = await session.get(Image, world.image.id)
    assert image is not None
    now = utcnow()
    await session.execute(
        insert(User),
        [
            {
                "id": f"u{i}",
                "first_name": f"First{i}",
                "last_name": f"Last{i}",
                "email": f"u{i}@example.org",
                "activated_at": now - timedelta(days=i % 300),
                "last_seen_at": now - timedelta(minutes=i),
                "instance_quota": 2,
            }
            for i in range(USERS)
        ],
    )
    first = 1000
    await session.execute(
        insert(Instance),
        [
            {
                "id": first + i,
                "uid": f"b{i:07d}",
                "name": f"vm {i}",
                "compute_id": f"server-{i}",
                "plan_id": world.plan.id,
                "username": "user",
                "state": "ACTIVE" if i % 3 else "STOPPED",
                "screen_width": 1280,
                "screen_height": 1024,
                "keyboard_layout": "en-gb-qwerty",
                "termination_date": now + timedelta(days=2),
                "vdi_protocol_id": guacd,
                "delete_requested": False,
                "created_at": now - timedelta(minutes=i),
                "updated_at": now,
            }
            for i in range(INSTANCES)
        ],
    )
    members = []
    for i in range(INSTANCES):
        members.append(
            {
                "instance_id": first + i,
                "user_id": f"u{i % USERS}",
                "role": "OWNER",
                "created_at": now,
                "updated_at": now,
            }
        )
        members.append(
            {
                "instance_id": first + i,
                "user_id": f"u{(i + 1) % USERS}",
                "role": "USER",
                "created_at": now,
                "updated_at": now,
            }
        )
    await session.execute(insert(InstanceMember), members)
    await session.execute(
        insert(InstanceAttribute),
        [
            {
                "instance_id": first + i,
                "name": "homePath",
                "value": "/home/u",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(INSTANCES)
        ],
    )
    await session.execute(
        insert(instance_experiment),
        [{"instance_id": first + i, "experiment_id": "e-1"} for i in range(INSTANCES)],
    )
    await session.commit()


async def timings(
    client: Any, headers: dict[str, str], query: str, variables: Any = None
) -> list[float]:
    found = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = await client.post(
            "/api/graphql", headers=headers, json={"query": query, "variables": variables}
        )
        found.append(time.perf_counter() - started)
        body = await response.get_json()
        assert response.status_code == 200 and not body.get("errors"), body
    return found


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


@pytest.mark.bench
async def test_admin_queries_on_a_large_site(
    test_database: TestDatabase, tmp_path: Path, db_engine: Any, db_session: Any
) -> None:
    from graphql_world import settings_overrides

    from visa_platform.app import create_app

    await seed(db_session)
    settings = load_settings(**settings_overrides(test_database, tmp_path))
    admin = bearer(StaticAccounts(settings).add("9001", roles=["ADMIN"]))
    app = create_app(settings)
    async with app.test_app() as running:
        client = running.test_client()
        await timings(client, admin, "{ __typename }")  # warm up, first login
        baseline = await timings(client, admin, "{ __typename }")
        dashboard = await timings(client, admin, DASHBOARD)
        page = await timings(client, admin, INSTANCES_PAGE, {"p": {"offset": 0, "limit": 50}})
    base50 = statistics.median(baseline)
    print(f"\nadmin GraphQL, {INSTANCES} instances, {USERS} users, {RUNS} runs each:")
    print(f"  baseline {{ __typename }}: p50 {base50 * 1000:.1f} ms")
    for name, values in (("dashboard", dashboard), ("instances page (50)", page)):
        p50, p99 = statistics.median(values), quantile(values, 0.99)
        print(
            f"  {name}: p50 {p50 * 1000:.1f} ms ({p50 / base50:.1f}x), "
            f"p99 {p99 * 1000:.1f} ms ({p99 / base50:.1f}x)"
        )
    assert statistics.median(page) > 0
