"""Every instance endpoint x every kind of caller: the status each must get (spec/domain.md §4.5).

One table, checked in one pass per database; any leak (a caller getting a 2xx where VISA refuses)
or any wrongly refused caller is reported with the endpoint and the caller.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from instance_fixtures import LAYOUT, Facility, creation, instance_settings
from quart.datastructures import FileStorage

from visa_platform.db.models import User
from visa_platform.db.types import utcnow
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase

ACTORS = ("anonymous", "owner", "user", "guest", "support", "admin", "stranger")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32 + b"\xff\xd9"

READ = {
    "anonymous": 401,
    "owner": 200,
    "user": 200,
    "guest": 200,
    "support": 200,
    "admin": 200,
    "stranger": 404,
}
MANAGE = {
    "anonymous": 401,
    "owner": 200,
    "user": 401,
    "guest": 401,
    "support": 404,
    "admin": 200,
    "stranger": 404,
}
#: VISA's support view uploads thumbnails too: answered, and ignored (spec §1.12).
THUMBNAIL_UPLOAD = {**MANAGE, "support": 200}
OWNER_ONLY = {
    "anonymous": 401,
    "owner": 200,
    "user": 401,
    "guest": 401,
    "support": 401,
    "admin": 401,
    "stranger": 401,
}
TICKET = {
    "anonymous": 401,
    "owner": 201,
    "user": 201,
    "guest": 201,
    "support": 201,
    "admin": 201,
    "stranger": 401,
}
EXTENSION_READ = {**READ, "stranger": 401}
EXTENSION_ASK = {
    "anonymous": 401,
    "owner": 200,
    "user": 401,
    "guest": 401,
    "support": 401,
    "admin": 200,
    "stranger": 401,
}
JUPYTER = {
    "anonymous": 401,
    "owner": 200,
    "user": 404,
    "guest": 404,
    "support": 404,
    "admin": 404,
    "stranger": 404,
}
ADMIN_ONLY = {
    "anonymous": 401,
    "owner": 403,
    "user": 403,
    "guest": 403,
    "support": 403,
    "admin": 200,
    "stranger": 403,
}
USER_LOOKUP = {
    "anonymous": 401,
    "owner": 403,
    "user": 403,
    "guest": 403,
    "support": 200,
    "admin": 200,
    "stranger": 403,
}
ANY_USER = {"anonymous": 401, **{a: 200 for a in ACTORS if a != "anonymous"}}


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    return instance_settings(test_database, tmp_path)


def update_body(made: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "renamed",
        "comments": None,
        "screenWidth": 1280,
        "screenHeight": 1024,
        "keyboardLayout": LAYOUT,
        "unrestrictedAccess": False,
        "vdiProtocolId": made["vdiProtocol"]["id"],
    }


def thumbnail() -> dict[str, Any]:
    return {
        "files": {
            "file": FileStorage(io.BytesIO(JPEG), filename="t.jpg", content_type="image/jpeg")
        }
    }


async def test_instance_endpoints_by_caller(
    client: Any, facility: Facility, accounts: StaticAccounts, db_session: Any
) -> None:
    headers = {
        "anonymous": {},
        "owner": bearer(accounts.add("1001")),
        "user": bearer(accounts.add("1002")),
        "guest": bearer(accounts.add("1003")),
        "support": bearer(accounts.add("2001", roles=["IT_SUPPORT"])),
        "admin": bearer(accounts.admin_token),
        "stranger": bearer(accounts.add("1004")),
    }
    db_session.add_all(
        [
            User(id=f"300{i}", last_name=f"Target{i}", activated_at=utcnow())
            for i in range(len(ACTORS))
        ]
    )
    await db_session.commit()
    owner = headers["owner"]
    made = (
        await (
            await client.post(
                "/api/account/instances", headers=owner, json=creation(facility.plan.id, ["e-1"])
            )
        ).get_json()
    )["data"]
    base = f"/api/account/instances/{made['uid']}"
    for member, role in (("1002", "USER"), ("1003", "GUEST")):
        added = await client.post(
            f"{base}/members", headers=owner, json={"userId": member, "role": role}
        )
        assert added.status_code == 200
    owner_member = (await (await client.get(f"{base}/members", headers=owner)).get_json())["data"]
    guest_member_id = next(m["id"] for m in owner_member if m["user"]["id"] == "1003")

    table: list[tuple[str, str, dict[str, int], Any]] = [
        ("GET", base, READ, None),
        ("GET", f"/api/account/instances/{made['id']}", READ, None),
        ("GET", f"{base}/state", READ, None),
        ("GET", f"{base}/members", READ, None),
        ("GET", f"{base}/experiments/team", READ, None),
        ("GET", f"{base}/sessions/active/members", READ, None),
        ("GET", f"{base}/extension", EXTENSION_READ, None),
        ("POST", f"{base}/auth/token", TICKET, None),
        ("PUT", base, MANAGE, {"json": update_body(made)}),
        ("GET", f"{base}/history", MANAGE, None),
        ("POST", f"{base}/actions/reboot", MANAGE, None),
        (
            "POST",
            f"{base}/members",
            MANAGE,
            lambda actor: {"json": {"userId": f"300{ACTORS.index(actor)}", "role": "GUEST"}},
        ),
        ("PUT", f"{base}/members/{guest_member_id}", MANAGE, {"json": {"role": "GUEST"}}),
        ("POST", f"{base}/thumbnail", THUMBNAIL_UPLOAD, lambda actor: thumbnail()),
        ("GET", f"{base}/thumbnail", ANY_USER, None),
        ("POST", f"{base}/extension", EXTENSION_ASK, {"json": {"comments": "more time"}}),
        ("GET", f"{base}/personal_access_tokens", OWNER_ONLY, None),
        (
            "PUT",
            f"{base}/public_access_token",
            {**OWNER_ONLY, "owner": 404},
            {"json": {"role": "GUEST"}},
        ),
        ("GET", f"/api/jupyter/instances/{made['id']}", JUPYTER, None),
        ("GET", f"/api/instances/{made['id']}/thumbnail", ADMIN_ONLY, None),
        ("GET", "/api/account/users/1001", USER_LOOKUP, None),
        ("GET", "/api/acm/health", {**ADMIN_ONLY, "admin": 403}, None),
    ]
    problems = []
    for method, path, expected, options in table:
        for actor in ACTORS:
            extra = options(actor) if callable(options) else (options or {})
            response = await client.open(path, method=method, headers=headers[actor], **extra)
            if response.status_code != expected[actor]:
                problems.append(
                    f"{method} {path} as {actor}: {response.status_code}, "
                    f"expected {expected[actor]}"
                )
    assert problems == []

    # destructive last: only the owner and administrators may delete
    for actor in ("anonymous", "user", "guest", "support", "stranger"):
        denied = await client.delete(base, headers=headers[actor])
        assert denied.status_code == MANAGE[actor], actor
    assert (await (await client.get(base, headers=owner)).get_json())["data"]["state"] != "DELETING"
    assert (await client.delete(base, headers=headers["admin"])).status_code == 200
