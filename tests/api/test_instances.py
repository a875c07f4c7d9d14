"""/api/account/instances: create, list, read, change, delete, actions and members."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from instance_fixtures import LAYOUT, Facility, creation, instance_settings
from sqlalchemy import select

from visa_platform.db.models import Instance, InstanceCommand
from visa_platform.domain.enums import InstanceCommandType, InstanceState
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase

INSTANCE_KEYS = {
    "id",
    "uid",
    "computeId",
    "ipAddress",
    "name",
    "comments",
    "plan",
    "state",
    "screenWidth",
    "screenHeight",
    "members",
    "experiments",
    "membership",
    "lastSeenAt",
    "createdAt",
    "lastInteractionAt",
    "terminationDate",
    "expirationDate",
    "deleteRequested",
    "canConnectWhileOwnerAway",
    "keyboardLayout",
    "unrestrictedAccess",
    "activeProtocols",
    "vdiProtocol",
    "publicAccessToken",
    "publicAccessRole",
    "lifetimeMinutes",
}


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    return instance_settings(test_database, tmp_path)


@pytest.fixture
def users(accounts: StaticAccounts) -> dict[str, dict[str, str]]:
    return {
        "ada": bearer(accounts.add("1001")),
        "alan": bearer(accounts.add("1002")),
        "grace": bearer(accounts.add("1003", roles=["STAFF"])),
        "support": bearer(accounts.add("2001", roles=["IT_SUPPORT"])),
        "admin": bearer(accounts.admin_token),
    }


async def create(client: Any, who: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.post("/api/account/instances", headers=who, json=body)


async def test_create_with_an_experiment(
    client: Any, facility: Facility, users: Any, db_session: Any
) -> None:
    response = await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))
    assert response.status_code == 200, await response.get_data()
    data = (await response.get_json())["data"]
    assert set(data) == INSTANCE_KEYS
    assert data["state"] == "BUILDING"
    assert len(data["uid"]) == 8 and not data["uid"].isdigit()
    assert data["membership"]["role"] == "OWNER"
    assert [m["role"] for m in data["members"]] == ["OWNER"]
    assert [e["id"] for e in data["experiments"]] == ["e-1"]
    assert data["vdiProtocol"]["name"] == "GUACD"
    assert data["lifetimeMinutes"] == 336 * 60
    assert data["keyboardLayout"] == LAYOUT and data["canConnectWhileOwnerAway"] is True
    termination = datetime.fromisoformat(data["terminationDate"])
    created = datetime.fromisoformat(data["createdAt"])
    assert abs(termination - created - timedelta(hours=336)) < timedelta(minutes=1)
    commands = (await db_session.scalars(select(InstanceCommand))).all()
    assert [(c.action_type, c.state.name, c.user_id) for c in commands] == [
        (InstanceCommandType.CREATE, "PENDING", "1001")
    ]


async def test_lifetime_is_clamped_and_staff_live_longer(
    client: Any, facility: Facility, users: Any
) -> None:
    short = await create(
        client, users["ada"], creation(facility.plan.id, ["e-1"], lifetimeMinutes=90)
    )
    assert (await short.get_json())["data"]["lifetimeMinutes"] == 90
    long = await create(
        client, users["ada"], creation(facility.plan.id, ["e-1"], lifetimeMinutes=10**7)
    )
    assert (await long.get_json())["data"]["lifetimeMinutes"] == 336 * 60
    staff = await create(client, users["grace"], creation(facility.plan.id, []))
    assert staff.status_code == 200, await staff.get_data()
    assert (await staff.get_json())["data"]["lifetimeMinutes"] == 1440 * 60


async def test_quota(client: Any, facility: Facility, users: Any) -> None:
    for _ in range(2):
        ok = await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))
        assert ok.status_code == 200
    refused = await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))
    assert refused.status_code == 400
    assert (await refused.get_json())["errors"] == ["Instance quota exceeded"]


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"keyboardLayout": "xx-yy"}, 400),
        ({"planId": 999999}, 400),
        ({"acceptedTerms": False}, 400),
        ({"name": ""}, 400),
        ({"name": "x" * 251}, 400),
        ({"screenWidth": "wide"}, 400),
        ({"experiments": ["e-2"]}, 401),  # not on that experiment's team
        ({"experiments": []}, 401),  # a plain user needs an experiment
        ({"bookingTokenId": 5}, 400),
    ],
)
async def test_creation_refusals(
    client: Any,
    facility: Facility,
    users: Any,
    db_session: Any,
    changes: dict[str, Any],
    status: int,
) -> None:
    response = await create(client, users["ada"], creation(facility.plan.id, ["e-1"], **changes))
    assert response.status_code == status, await response.get_data()
    assert (await db_session.scalars(select(Instance))).all() == []


async def test_malformed_body_is_a_clean_400(client: Any, facility: Facility, users: Any) -> None:
    response = await client.post("/api/account/instances", headers=users["ada"], data="{oops")
    assert response.status_code == 400
    assert "malformed JSON" in (await response.get_json())["errors"][0]
    missing = await create(client, users["ada"], {"name": "x"})
    assert missing.status_code == 400
    report = await missing.get_json()
    assert report["title"] == "Constraint Violation"
    assert {v["field"] for v in report["violations"]} >= {"planId", "screenWidth", "acceptedTerms"}


async def test_list_count_and_read(client: Any, facility: Facility, users: Any) -> None:
    first = (
        await (await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))).get_json()
    )["data"]
    second = (
        await (await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))).get_json()
    )["data"]
    await create(client, users["alan"], creation(facility.plan.id, ["e-2"]))
    listed = (await (await client.get("/api/account/instances", headers=users["ada"])).get_json())[
        "data"
    ]
    assert [i["id"] for i in listed] == [second["id"], first["id"]]
    count = await client.get("/api/account/instances/_count", headers=users["ada"])
    assert (await count.get_json())["data"] == 2
    for reference in (first["uid"], str(first["id"])):
        got = await client.get(f"/api/account/instances/{reference}", headers=users["ada"])
        assert (await got.get_json())["data"]["id"] == first["id"]
    assert (
        await client.get(f"/api/account/instances/{first['uid']}", headers=users["alan"])
    ).status_code == 404
    assert (
        await client.get("/api/account/instances/no-such!", headers=users["ada"])
    ).status_code == 404
    support = await client.get(f"/api/account/instances/{first['uid']}", headers=users["support"])
    assert support.status_code == 200
    membership = (await support.get_json())["data"]["membership"]
    assert membership["id"] is None and membership["role"] == "SUPPORT"
    assert membership["user"]["id"] == "2001"
    state = await client.get(f"/api/account/instances/{first['uid']}/state", headers=users["ada"])
    assert (await state.get_json())["data"] == {
        "state": "BUILDING",
        "terminationDate": first["terminationDate"],
        "expirationDate": None,
        "deleteRequested": False,
        "activeProtocols": [],
    }


async def test_update_rules(client: Any, facility: Facility, users: Any) -> None:
    made = (
        await (await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))).get_json()
    )["data"]
    path = f"/api/account/instances/{made['uid']}"
    body = {
        "name": "renamed",
        "comments": None,
        "screenWidth": 1920,
        "screenHeight": 1080,
        "keyboardLayout": LAYOUT,
        "unrestrictedAccess": True,
        "vdiProtocolId": made["vdiProtocol"]["id"],
    }
    updated = await client.put(path, headers=users["ada"], json=body)
    data = (await updated.get_json())["data"]
    assert (data["name"], data["screenWidth"], data["unrestrictedAccess"]) == (
        "renamed",
        1920,
        True,
    )
    assert (await client.put(path, headers=users["alan"], json=body)).status_code == 404
    assert (await client.put(path, headers=users["admin"], json=body)).status_code == 200
    bad = await client.put(path, headers=users["ada"], json={**body, "keyboardLayout": "zz"})
    assert bad.status_code == 400
    await client.post(
        f"{path}/members", headers=users["ada"], json={"userId": "1002", "role": "USER"}
    )
    assert (await client.put(path, headers=users["alan"], json=body)).status_code == 401


async def test_actions_and_history(
    client: Any, facility: Facility, users: Any, db_session: Any
) -> None:
    made = (
        await (await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))).get_json()
    )["data"]
    path = f"/api/account/instances/{made['uid']}"
    for action, state in (("shutdown", "STOPPING"), ("start", "STARTING"), ("reboot", "REBOOTING")):
        response = await client.post(f"{path}/actions/{action}", headers=users["ada"])
        assert (await response.get_json())["data"]["state"] == state
    assert (await client.post(f"{path}/actions/explode", headers=users["ada"])).status_code == 400
    assert (await client.post(f"{path}/actions/start", headers=users["alan"])).status_code == 404
    history = (await (await client.get(f"{path}/history", headers=users["ada"])).get_json())["data"]
    assert [c["actionType"] for c in history] == ["CREATE", "SHUTDOWN", "START", "REBOOT"]
    assert all(c["state"] == "PENDING" for c in history)
    assert set(history[0]) == {"id", "actionType", "state", "message", "createdAt"}


async def test_delete(client: Any, facility: Facility, users: Any, db_session: Any) -> None:
    fresh = (
        await (await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))).get_json()
    )["data"]
    gone = await client.delete(f"/api/account/instances/{fresh['uid']}", headers=users["ada"])
    assert (await gone.get_json())["data"]["state"] == "DELETING"
    running = (
        await (await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))).get_json()
    )["data"]
    instance = await db_session.get(Instance, running["id"])
    instance.compute_id, instance.state = "srv-1", InstanceState.ACTIVE
    await db_session.commit()
    assert (
        await client.delete(f"/api/account/instances/{running['uid']}", headers=users["alan"])
    ).status_code == 404
    stopping = await client.delete(f"/api/account/instances/{running['uid']}", headers=users["ada"])
    data = (await stopping.get_json())["data"]
    assert (data["state"], data["deleteRequested"]) == ("STOPPING", True)
    kinds = (
        await db_session.scalars(select(InstanceCommand.action_type).order_by(InstanceCommand.id))
    ).all()
    assert kinds[-1] is InstanceCommandType.SHUTDOWN and InstanceCommandType.DELETE in kinds


async def test_members(client: Any, facility: Facility, users: Any) -> None:
    made = (
        await (await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))).get_json()
    )["data"]
    path = f"/api/account/instances/{made['uid']}/members"
    added = await client.post(path, headers=users["ada"], json={"userId": "1002", "role": "USER"})
    member = (await added.get_json())["data"]
    assert (member["user"]["id"], member["role"]) == ("1002", "USER")
    for body, status in (
        ({"userId": "nobody", "role": "USER"}, 400),
        ({"userId": "1003", "role": "OWNER"}, 400),
        ({"userId": "1002", "role": "GUEST"}, 400),
        ({"userId": "1003"}, 400),
    ):
        assert (await client.post(path, headers=users["ada"], json=body)).status_code == status
    # the new member sees the instance and its members, but may not manage them
    listed = (await (await client.get(path, headers=users["alan"])).get_json())["data"]
    assert [m["role"] for m in listed] == ["OWNER", "USER"]
    assert (
        await client.post(path, headers=users["alan"], json={"userId": "1003", "role": "GUEST"})
    ).status_code == 401
    one = f"{path}/{member['id']}"
    changed = await client.put(one, headers=users["ada"], json={"role": "GUEST"})
    assert (await changed.get_json())["data"]["role"] == "GUEST"
    assert (await client.put(one, headers=users["ada"], json={"role": "OWNER"})).status_code == 400
    owner_id = listed[0]["id"]
    assert (await client.delete(f"{path}/{owner_id}", headers=users["ada"])).status_code == 404
    removed = await client.delete(one, headers=users["ada"])
    assert await removed.get_json() == {"data": None}
    assert (
        await client.get(f"/api/account/instances/{made['uid']}", headers=users["alan"])
    ).status_code == 404


async def test_listing_costs_the_same_statements_for_2_or_8_instances(
    app: Any, client: Any, facility: Facility, users: Any, db_session: Any
) -> None:
    from sqlalchemy import event, update

    from visa_platform.db.models import User
    from visa_platform.runtime import runtime

    await db_session.execute(update(User).values(instance_quota=-1))
    await db_session.commit()
    engine = runtime(app.app).engine.sync_engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def listing_cost() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = await client.get("/api/account/instances", headers=users["ada"])
            assert response.status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    for _ in range(2):
        await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))
    small = await listing_cost()
    for _ in range(6):
        made = (
            await (
                await create(client, users["ada"], creation(facility.plan.id, ["e-1"]))
            ).get_json()
        )["data"]
        await client.post(
            f"/api/account/instances/{made['uid']}/members",
            headers=users["ada"],
            json={"userId": "1002", "role": "USER"},
        )
    assert await listing_cost() == small
