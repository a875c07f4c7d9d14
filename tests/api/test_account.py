"""/api/account: the caller, quotas, event-gateway tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from visa_platform.db.models import (
    ClientAuthenticationToken,
    Employer,
    Instance,
    InstanceMember,
    Role,
    User,
    UserRole,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceMemberRole, InstanceState
from visa_platform.services.tokens import consume_client_token
from visa_platform.testing.accounts import StaticAccounts, bearer


async def test_account_lists_active_roles_and_groups(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    token = accounts.add("1001", first_name="Ada", last_name="Lovelace")
    db_session.add(Employer(id=7, name="ILL", town="Grenoble", country_code="FR"))
    db_session.add(
        User(
            id="1001",
            first_name="Ada",
            last_name="Lovelace",
            affiliation_id=7,
            email="ada@example.org",
            activated_at=utcnow(),
        )
    )
    await db_session.flush()
    roles = {r.name: r for r in (await db_session.scalars(select(Role))).all()}
    group = Role(name="beamline-9", group_created_at=utcnow())
    gone = Role(name="old-group", group_created_at=utcnow(), group_deleted_at=utcnow())
    db_session.add_all([group, gone])
    await db_session.flush()
    later = utcnow() + timedelta(days=3)
    db_session.add_all(
        [
            UserRole(user_id="1001", role_id=roles["STAFF"].id),
            UserRole(user_id="1001", role_id=roles["GUEST"].id, expires_at=later),
            UserRole(
                user_id="1001",
                role_id=roles["IT_SUPPORT"].id,
                expires_at=utcnow() - timedelta(days=1),
            ),
            UserRole(user_id="1001", role_id=group.id),
            UserRole(user_id="1001", role_id=gone.id),
        ]
    )
    await db_session.commit()
    body = await (await client.get("/api/account", headers=bearer(token))).get_json()
    data = body["data"]
    assert data["affiliation"] == {"id": 7, "name": "ILL", "town": "Grenoble", "countryCode": "FR"}
    assert [r["name"] for r in data["activeUserRoles"]] == ["GUEST", "STAFF"]
    assert data["activeUserRoles"][0]["expiresAt"].endswith("+00:00")
    assert data["groups"] == ["beamline-9"]
    assert set(data) == {
        "id",
        "fullName",
        "firstName",
        "lastName",
        "email",
        "affiliation",
        "activeUserRoles",
        "groups",
    }


async def test_quotas_count_owned_non_deleted_instances(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    token = accounts.add("1001")
    assert (await client.get("/api/account", headers=bearer(token))).status_code == 200
    for i, (role, deleted) in enumerate(
        [
            (InstanceMemberRole.OWNER, False),
            (InstanceMemberRole.OWNER, True),
            (InstanceMemberRole.USER, False),
        ]
    ):
        instance = Instance(
            uid=f"q{i}aaaaaa",
            name=f"vm{i}",
            state=InstanceState.ACTIVE,
            screen_width=1,
            screen_height=1,
            keyboard_layout="en-gb-qwerty",
            deleted_at=utcnow() if deleted else None,
        )
        db_session.add(instance)
        await db_session.flush()
        db_session.add(InstanceMember(instance_id=instance.id, user_id="1001", role=role))
    await db_session.commit()
    body = await (await client.get("/api/account/quotas", headers=bearer(token))).get_json()
    assert body == {"data": {"maxInstances": 2, "totalInstances": 1, "availableInstances": 1}}


async def test_client_tokens_are_single_use_and_bound_to_the_client(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    me = bearer(accounts.add("1001"))
    response = await client.post("/api/account/clients/tab-1/auth/token", headers=me)
    assert response.status_code == 201
    token = (await response.get_json())["data"]["token"]
    assert await consume_client_token(db_session, token, "another-tab") is None  # and now used
    await db_session.commit()
    response = await client.post("/api/account/clients/tab-1/auth/token", headers=me)
    token = (await response.get_json())["data"]["token"]
    assert await consume_client_token(db_session, token, "tab-1") == "1001"
    assert await consume_client_token(db_session, token, "tab-1") is None
    await db_session.commit()
    response = await client.post("/api/account/clients/tab-1/auth/token", headers=me)
    token = (await response.get_json())["data"]["token"]
    late = utcnow() + timedelta(seconds=16)
    assert await consume_client_token(db_session, token, "tab-1", now=late) is None
    await db_session.commit()
    assert (await db_session.scalars(select(ClientAuthenticationToken))).all() == []


async def test_client_token_needs_a_user(client: Any, accounts: StaticAccounts) -> None:
    assert (await client.post("/api/account/clients/tab-1/auth/token")).status_code == 401
    long_id = "x" * 251
    response = await client.post(
        f"/api/account/clients/{long_id}/auth/token", headers=bearer(accounts.add("1001"))
    )
    assert response.status_code == 400
