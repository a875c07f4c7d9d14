"""/api/account/users: name search, support staff, one user's profile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from visa_platform.db.models import Employer, Role, User, UserRole
from visa_platform.db.types import utcnow
from visa_platform.testing.accounts import StaticAccounts, bearer

USER_KEYS = {
    "id", "fullName", "firstName", "lastName", "email", "affiliation", "activeUserRoles", "groups"
}  # fmt: skip


async def seed(db_session: Any) -> dict[str, Role]:
    now = utcnow()
    db_session.add(Employer(id=7, name="ILL", town="Grenoble", country_code="FR"))
    db_session.add_all(
        [
            User(id="11", first_name="Marie", last_name="Curie", activated_at=now, affiliation_id=7,
                 email="marie@example.org"),
            User(id="12", first_name="Pierre", last_name="curie", activated_at=now),
            User(id="13", first_name="Irene", last_name="Curie-Joliot", activated_at=now),
            User(id="14", first_name="Eve", last_name="Curie", activated_at=None),  # inactive
            User(id="15", first_name="Niels", last_name="Bohr", activated_at=now),
            User(id="16", first_name="Lise", last_name="Meitner", activated_at=now),
            User(id="17", first_name="Otto", last_name="Hahn", activated_at=now),
            User(id="18", first_name="Per_cent", last_name="C%", activated_at=now),
        ]
    )  # fmt: skip
    await db_session.flush()
    roles = {r.name: r for r in (await db_session.scalars(select(Role))).all()}
    group = Role(name="beamline-9", group_created_at=now)
    gone = Role(name="old-group", group_created_at=now, group_deleted_at=now)
    db_session.add_all([group, gone])
    await db_session.flush()
    later, earlier = now + timedelta(days=3), now - timedelta(days=1)
    db_session.add_all(
        [
            UserRole(user_id="15", role_id=roles["INSTRUMENT_SCIENTIST"].id),
            UserRole(user_id="15", role_id=roles["STAFF"].id, expires_at=later),
            UserRole(user_id="15", role_id=group.id),
            UserRole(user_id="15", role_id=gone.id),
            UserRole(user_id="16", role_id=roles["SCIENTIFIC_COMPUTING"].id),
            UserRole(user_id="11", role_id=roles["IT_SUPPORT"].id, expires_at=earlier),  # expired
            UserRole(user_id="17", role_id=roles["ADMIN"].id),  # admin alone is not support
        ]
    )
    await db_session.commit()
    return roles


async def get(client: Any, token: str, path: str) -> tuple[int, Any]:
    response = await client.get(f"/api/account/users{path}", headers=bearer(token))
    return response.status_code, await response.get_json()


async def test_search_by_last_name_prefix(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    await seed(db_session)
    token = accounts.add("1001")
    status, body = await get(client, token, "/_search?name=cUr")
    assert status == 200
    assert [u["id"] for u in body["data"]] == ["11", "12", "13"]  # not the unactivated 14
    assert body["data"][0] == {
        "id": "11",
        "fullName": "Marie Curie",
        "firstName": "Marie",
        "lastName": "Curie",
        "email": "marie@example.org",
        "affiliation": {"id": 7, "name": "ILL", "town": "Grenoble", "countryCode": "FR"},
        "activeUserRoles": [],
        "groups": [],
    }
    assert (await get(client, token, "/_search?name=Curie-"))[1]["data"][0]["id"] == "13"
    assert (await get(client, token, "/_search?name=C%25"))[1]["data"][0]["id"] == "18"
    assert (await get(client, token, "/_search?name=_"))[1] == {"data": []}  # no wildcard
    assert await get(client, token, "/_search?name=") == (200, {"data": []})
    assert await get(client, token, "/_search") == (200, {"data": []})
    assert await get(client, token, "/_search?name=zzz") == (200, {"data": []})


async def test_search_returns_at_most_250(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    now = utcnow()
    db_session.add_all(
        [User(id=f"9{i:03d}", last_name=f"Smith{i:03d}", activated_at=now) for i in range(260)]
    )
    await db_session.commit()
    status, body = await get(client, accounts.add("1001"), "/_search?name=smith")
    assert status == 200
    assert len(body["data"]) == 250
    assert body["data"][0]["lastName"] == "Smith000"
    assert body["data"][-1]["lastName"] == "Smith249"


async def test_support_users_with_roles_and_groups(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    await seed(db_session)
    status, body = await get(client, accounts.add("1001"), "/support")
    assert status == 200
    assert [u["id"] for u in body["data"]] == ["15", "16"]  # by last name; not expired 11
    bohr = body["data"][0]
    assert set(bohr) == USER_KEYS
    assert [r["name"] for r in bohr["activeUserRoles"]] == ["INSTRUMENT_SCIENTIST", "STAFF"]
    assert bohr["activeUserRoles"][0]["expiresAt"] is None
    assert bohr["activeUserRoles"][1]["expiresAt"].endswith("+00:00")
    assert bohr["groups"] == ["beamline-9"]
    assert bohr["affiliation"] is None
    assert body["data"][1]["activeUserRoles"] == [{"name": "SCIENTIFIC_COMPUTING",
                                                   "expiresAt": None}]  # fmt: skip
    assert body["data"][1]["groups"] == []


@pytest.mark.parametrize("role", ["ADMIN", "INSTRUMENT_CONTROL", "INSTRUMENT_SCIENTIST",
                                  "IT_SUPPORT", "STAFF"])  # fmt: skip
async def test_user_by_id_for_allowed_roles(
    client: Any, db_session: Any, accounts: StaticAccounts, role: str
) -> None:
    await seed(db_session)
    token = accounts.add("1001", roles=[role])
    status, body = await get(client, token, "/15")
    assert status == 200
    assert set(body["data"]) == USER_KEYS
    assert body["data"]["fullName"] == "Niels Bohr"
    assert [r["name"] for r in body["data"]["activeUserRoles"]] == ["INSTRUMENT_SCIENTIST", "STAFF"]
    assert body["data"]["groups"] == ["beamline-9"]
    assert (await get(client, token, "/11"))[1]["data"]["activeUserRoles"] == []  # expired
    assert (await get(client, token, "/424242"))[0] == 404
    for bad in ("abc", "1a", "-1", "%20", "\uff11\uff12"):
        assert (await get(client, token, f"/{bad}"))[0] == 404, bad


@pytest.mark.parametrize("roles", [[], ["GUEST"], ["SCIENTIFIC_COMPUTING"]])
async def test_user_by_id_needs_a_role(
    client: Any, db_session: Any, accounts: StaticAccounts, roles: list[str]
) -> None:
    await seed(db_session)
    token = accounts.add("1001", roles=roles)
    assert (await get(client, token, "/15"))[0] == 403
    assert (await get(client, token, "/abc"))[0] == 403  # roles are checked first


@pytest.mark.parametrize("path", ["/_search?name=a", "/support", "/15"])
async def test_anonymous_is_401(client: Any, path: str) -> None:
    response = await client.get(f"/api/account/users{path}")
    assert response.status_code == 401
