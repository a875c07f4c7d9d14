"""Team, connected users, extension requests, the support listing, Jupyter, ACM and bookings."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from instance_fixtures import Facility, creation, instance_settings
from sqlalchemy import select

from visa_platform.db.models import (
    Image,
    Instance,
    InstanceJupyterSession,
    InstanceSession,
    InstanceSessionMember,
)
from visa_platform.domain.enums import ImageAutoAcceptExtensionRequest, InstanceMemberRole
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    return instance_settings(test_database, tmp_path)


@pytest.fixture
def users(accounts: StaticAccounts) -> dict[str, dict[str, str]]:
    return {
        "ada": bearer(accounts.add("1001")),
        "alan": bearer(accounts.add("1002")),
        "support": bearer(accounts.add("2001", roles=["IT_SUPPORT"])),
        "admin": bearer(accounts.admin_token),
    }


async def make(client: Any, facility: Facility, who: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/api/account/instances", headers=who, json=creation(facility.plan.id, ["e-1"])
    )
    assert response.status_code == 200
    return dict((await response.get_json())["data"])


async def test_experiment_team(client: Any, facility: Facility, users: Any) -> None:
    made = await make(client, facility, users["ada"])
    team = await client.get(
        f"/api/account/instances/{made['uid']}/experiments/team", headers=users["ada"]
    )
    assert [u["id"] for u in (await team.get_json())["data"]] == ["1001"]
    assert (
        await client.get(
            f"/api/account/instances/{made['uid']}/experiments/team", headers=users["alan"]
        )
    ).status_code == 404


async def test_connected_users(
    client: Any, facility: Facility, users: Any, db_session: Any
) -> None:
    made = await make(client, facility, users["ada"])
    session = InstanceSession(
        instance_id=made["id"], connection_id="$abc", protocol="guacamole", current=True
    )
    db_session.add(session)
    await db_session.flush()
    db_session.add_all(
        [
            InstanceSessionMember(
                instance_session_id=session.id,
                session_id="tab-1",
                user_id="1001",
                role=InstanceMemberRole.OWNER,
                active=True,
            ),
            InstanceSessionMember(
                instance_session_id=session.id,
                session_id="tab-0",
                user_id="1001",
                role=InstanceMemberRole.OWNER,
                active=False,
            ),
        ]
    )
    await db_session.commit()
    response = await client.get(
        f"/api/account/instances/{made['uid']}/sessions/active/members", headers=users["ada"]
    )
    members = (await response.get_json())["data"]
    assert len(members) == 1
    assert members[0]["sessionId"] == "tab-1" and members[0]["role"] == "OWNER"
    assert members[0]["instanceSession"] == {
        "id": session.id,
        "connectionId": "$abc",
        "instanceId": made["id"],
        "current": True,
        "protocol": "GUACAMOLE",
    }


async def test_extension_requests(
    client: Any, facility: Facility, users: Any, db_session: Any
) -> None:
    made = await make(client, facility, users["ada"])
    path = f"/api/account/instances/{made['uid']}/extension"
    assert await (await client.get(path, headers=users["ada"])).get_json() == {"data": None}
    assert (await client.get(path, headers=users["alan"])).status_code == 401
    first = await client.post(path, headers=users["ada"], json={"comments": "beamtime moved"})
    request = (await first.get_json())["data"]
    assert set(request) == {"id", "comments", "createdAt"}
    again = await client.post(path, headers=users["ada"], json={"comments": "again"})
    assert (await again.get_json())["data"]["id"] == request["id"]  # one pending at a time
    assert (await (await client.get(path, headers=users["ada"])).get_json())["data"][
        "id"
    ] == request["id"]
    assert (await client.post(path, headers=users["alan"], json={})).status_code == 401


async def test_extension_accepted_automatically_by_the_image(
    client: Any, facility: Facility, users: Any, db_session: Any
) -> None:
    image = await db_session.get(Image, facility.plan.image_id)
    image.auto_accept_extension_request = ImageAutoAcceptExtensionRequest.ALL
    await db_session.commit()
    made = await make(client, facility, users["ada"])
    before = datetime.fromisoformat(made["terminationDate"])
    response = await client.post(
        f"/api/account/instances/{made['uid']}/extension",
        headers=users["ada"],
        json={"comments": "please"},
    )
    assert response.status_code == 200
    # accepted: no pending request, and the lifetime was added again
    assert await (
        await client.get(f"/api/account/instances/{made['uid']}/extension", headers=users["ada"])
    ).get_json() == {"data": None}
    after = await client.get(f"/api/account/instances/{made['uid']}", headers=users["ada"])
    termination = datetime.fromisoformat((await after.get_json())["data"]["terminationDate"])
    assert (termination - before).total_seconds() == pytest.approx(336 * 3600, abs=1)


async def test_support_listing(client: Any, facility: Facility, users: Any) -> None:
    for _ in range(2):
        await make(client, facility, users["ada"])
    plain = await client.get("/api/account/instances/support", headers=users["alan"])
    assert await plain.get_json() == {"data": [], "_metadata": {"count": 0, "page": 1, "limit": 25}}
    listed = await client.get(
        "/api/account/instances/support?limit=5&orderBy=name&descending=true",
        headers=users["support"],
    )
    body = await listed.get_json()
    assert body["_metadata"] == {"count": 2, "page": 1, "limit": 5}
    assert all(i["membership"]["role"] == "SUPPORT" for i in body["data"])
    owner = await client.get(
        "/api/account/instances/support?ownerId=1002", headers=users["support"]
    )
    assert (await owner.get_json())["_metadata"]["count"] == 0
    assert (
        await client.get(
            "/api/account/instances/support?orderBy=secret;drop", headers=users["support"]
        )
    ).status_code == 400
    assert (
        await client.get("/api/account/instances/support?limit=500", headers=users["support"])
    ).status_code == 400


async def test_jupyter(client: Any, facility: Facility, users: Any, db_session: Any) -> None:
    made = await make(client, facility, users["ada"])
    base = f"/api/jupyter/instances/{made['id']}"
    assert (await client.get(base, headers=users["ada"])).status_code == 200
    assert (await client.get(base, headers=users["admin"])).status_code == 404  # owner only
    notebook = {"kernelId": "k-1", "sessionId": "s-1"}
    assert (
        await client.post(f"{base}/notebook/open", headers=users["ada"], json=notebook)
    ).status_code == 200
    assert (
        await client.post(f"{base}/notebook/open", headers=users["alan"], json=notebook)
    ).status_code == 404
    closed = await client.post(f"{base}/notebook/close", json=notebook)  # anonymous
    assert closed.status_code == 200
    rows = (await db_session.scalars(select(InstanceJupyterSession))).all()
    assert [(r.kernel_id, r.active) for r in rows] == [("k-1", False)]


async def test_acm_instance_and_bookings_config(
    client: Any, facility: Facility, users: Any, db_session: Any
) -> None:
    made = await make(client, facility, users["ada"])
    other = await make(client, facility, users["ada"])
    instance = await db_session.get(Instance, made["id"])
    instance.compute_id = "srv-42"
    await db_session.commit()
    basic = {"Authorization": "Basic " + base64.b64encode(f"{made['id']}:srv-42".encode()).decode()}
    mine = await client.get(f"/api/acm/instances/{made['id']}", headers=basic)
    data = (await mine.get_json())["data"]
    assert data["uid"] == made["uid"] and data["members"] == []
    assert (await client.get(f"/api/acm/instances/{other['id']}", headers=basic)).status_code == 401
    assert (
        await client.get(f"/api/acm/instances/{made['id']}", headers=users["ada"])
    ).status_code == 403
    config = await client.get("/api/account/bookings/config", headers=users["ada"])
    assert (await config.get_json())["data"]["enabled"] is False
