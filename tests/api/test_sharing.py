"""Desktop tickets, the public link and personal invitations of an instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from instance_fixtures import Facility, creation, instance_settings
from sqlalchemy import select

from visa_platform.db.models import Instance, InstanceAuthenticationToken
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
        "grace": bearer(accounts.add("1003")),
        "admin": bearer(accounts.admin_token),
    }


@pytest.fixture
async def made(client: Any, facility: Facility, users: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/account/instances", headers=users["ada"], json=creation(facility.plan.id, ["e-1"])
    )
    return dict((await response.get_json())["data"])


async def test_desktop_tickets(
    client: Any, made: dict[str, Any], users: Any, db_session: Any
) -> None:
    path = f"/api/account/instances/{made['uid']}/auth/token"
    owner = await client.post(path, headers=users["ada"])
    assert owner.status_code == 201
    token = (await owner.get_json())["data"]["token"]
    row = await db_session.scalar(select(InstanceAuthenticationToken))
    assert (row.token, row.user_id, row.public_access_token) == (token, "1001", None)
    await db_session.rollback()  # end the read: SQLite lets the app write meanwhile
    assert (await client.post(path, headers=users["alan"])).status_code == 401  # not authorised
    await client.post(
        f"/api/account/instances/{made['uid']}/members",
        headers=users["ada"],
        json={"userId": "1002", "role": "USER"},
    )
    assert (await client.post(path, headers=users["alan"])).status_code == 201
    # without a desktop login name (an account with no username) only the owner gets tickets
    instance = await db_session.get(Instance, made["id"])
    instance.username = None
    await db_session.commit()
    assert (await client.post(path, headers=users["alan"])).status_code == 401
    assert (await client.post(path, headers=users["ada"])).status_code == 201
    assert (
        await client.post("/api/account/instances/zzzz9999/auth/token", headers=users["ada"])
    ).status_code == 404
    # the ticket path takes a uid only
    assert (
        await client.post(f"/api/account/instances/{made['id']}/auth/token", headers=users["ada"])
    ).status_code == 404


async def test_public_link(client: Any, made: dict[str, Any], users: Any) -> None:
    base = f"/api/account/instances/{made['uid']}"
    assert (
        await client.post(
            f"{base}/public_access_token", headers=users["admin"], json={"role": "GUEST"}
        )
    ).status_code == 401  # owner only
    assert (
        await client.post(
            f"{base}/public_access_token", headers=users["ada"], json={"role": "OWNER"}
        )
    ).status_code == 400
    created = await client.post(
        f"{base}/public_access_token", headers=users["ada"], json={"role": "GUEST"}
    )
    data = (await created.get_json())["data"]
    link = data["publicAccessToken"]
    assert data["publicAccessRole"] == "GUEST" and len(link) == 36
    # a stranger with the link sees the instance with the public role
    seen = await client.get(f"{base}?access_token={link}", headers=users["grace"])
    view = (await seen.get_json())["data"]
    assert view["membership"] == {"id": None, "user": view["membership"]["user"], "role": "GUEST"}
    assert view["membership"]["user"]["id"] == "1003"
    assert (view["canConnectWhileOwnerAway"], view["unrestrictedAccess"]) == (False, False)
    assert (
        await client.get(f"{base}?access_token=wrong", headers=users["grace"])
    ).status_code == 404
    ticket = await client.post(f"{base}/auth/token/{link}", headers=users["grace"])
    assert ticket.status_code == 201
    assert (
        await client.post(f"{base}/auth/token/wrong", headers=users["grace"])
    ).status_code == 401
    changed = await client.put(
        f"{base}/public_access_token", headers=users["ada"], json={"role": "USER"}
    )
    assert (await changed.get_json())["data"]["publicAccessRole"] == "USER"
    removed = await client.delete(f"{base}/public_access_token", headers=users["ada"])
    assert (await removed.get_json())["data"]["publicAccessToken"] is None
    assert (
        await client.get(f"{base}?access_token={link}", headers=users["grace"])
    ).status_code == 404


async def test_invitations_are_consumed_once(client: Any, made: dict[str, Any], users: Any) -> None:
    base = f"/api/account/instances/{made['uid']}/personal_access_tokens"
    created = await client.post(
        base, headers=users["ada"], json={"name": "for Alan", "role": "USER"}
    )
    invitation = (await created.get_json())["data"]
    assert set(invitation) == {
        "id",
        "instanceId",
        "instanceUid",
        "token",
        "name",
        "role",
        "createdAt",
    }
    assert (await client.get(base, headers=users["alan"])).status_code == 401
    listed = (await (await client.get(base, headers=users["ada"])).get_json())["data"]
    assert [i["id"] for i in listed] == [invitation["id"]]
    renamed = await client.put(
        f"{base}/{invitation['id']}",
        headers=users["ada"],
        json={"id": invitation["id"], "name": "Alan T.", "role": "GUEST"},
    )
    assert (await renamed.get_json())["data"]["name"] == "Alan T."
    assert (
        await client.put(
            f"{base}/{invitation['id']}",
            headers=users["ada"],
            json={"id": 999, "name": "x", "role": "GUEST"},
        )
    ).status_code == 400
    joined = await client.get(
        f"/api/account/instances/{made['uid']}?access_token={invitation['token']}",
        headers=users["alan"],
    )
    assert joined.status_code == 200, await joined.get_data()
    membership = (await joined.get_json())["data"]["membership"]
    assert membership["role"] == "GUEST" and membership["id"] is not None
    # used: gone from the list, and it does not work for anybody else
    assert (await (await client.get(base, headers=users["ada"])).get_json())["data"] == []
    again = await client.get(
        f"/api/account/instances/{made['uid']}?access_token={invitation['token']}",
        headers=users["grace"],
    )
    assert again.status_code == 404
    other = (
        await (
            await client.post(base, headers=users["ada"], json={"name": "n", "role": "USER"})
        ).get_json()
    )["data"]
    deleted = await client.delete(f"{base}/{other['id']}", headers=users["ada"])
    assert await deleted.get_json() == {"data": True}
    assert (await client.delete(f"{base}/{other['id']}", headers=users["ada"])).status_code == 404


async def test_public_links_can_be_switched_off(
    settings: Any, db_engine: Any, facility: Facility, accounts: StaticAccounts
) -> None:
    from visa_platform.app import create_app

    app = create_app(settings.model_copy(update={"instance_public_access_token_enabled": False}))
    async with app.test_app() as running:
        client = running.test_client()
        ada, grace = bearer(accounts.add("1001")), bearer(accounts.add("1003"))
        made = (
            await (
                await client.post(
                    "/api/account/instances", headers=ada, json=creation(facility.plan.id, ["e-1"])
                )
            ).get_json()
        )["data"]
        base = f"/api/account/instances/{made['uid']}"
        link = (
            await (
                await client.post(
                    f"{base}/public_access_token", headers=ada, json={"role": "GUEST"}
                )
            ).get_json()
        )["data"]["publicAccessToken"]
        assert (await client.get(f"{base}?access_token={link}", headers=grace)).status_code == 404
        assert (await client.post(f"{base}/auth/token/{link}", headers=grace)).status_code == 401
