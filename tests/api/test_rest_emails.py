"""Emails the portal API sends (spec/domain.md §6.1 #4, #6, #7), through a real SMTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from instance_fixtures import Facility, creation, instance_settings
from sqlalchemy import update

from visa_platform.db.models import Image, User
from visa_platform.domain.enums import ImageAutoAcceptExtensionRequest
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase

ADMINS = "admins@example.org"
EMAILS = {"1001": "ada@example.org", "1002": "alan@example.org", "1003": "grace@example.org"}


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path, smtp_server: Any) -> Any:
    return instance_settings(test_database, tmp_path).model_copy(
        update={
            "notification_email_adapter_enabled": True,
            "notification_email_adapter_host": "127.0.0.1",
            "notification_email_adapter_port": smtp_server.port,
            "notification_email_adapter_from_email_address": "visa@example.org",
            "notification_email_adapter_admin_email_address": ADMINS,
        }
    )


@pytest.fixture
def users(accounts: StaticAccounts) -> dict[str, dict[str, str]]:
    return {
        "ada": bearer(accounts.add("1001")),
        "alan": bearer(accounts.add("1002")),
        "grace": bearer(accounts.add("1003")),
        "admin": bearer(accounts.admin_token),
    }


@pytest.fixture
async def made(facility: Facility, client: Any, users: Any, db_session: Any) -> dict[str, Any]:
    # The facility is built before the app starts: the app's outbox poller takes SQLite's write
    # lock every 2 s, and the facility's transaction reads before it writes, which SQLite then
    # refuses at once ("database is locked") instead of waiting.
    for user_id, email in EMAILS.items():
        await db_session.execute(update(User).where(User.id == user_id).values(email=email))
    await db_session.commit()
    response = await client.post(
        "/api/account/instances", headers=users["ada"], json=creation(facility.plan.id, ["e-1"])
    )
    assert response.status_code == 200
    return dict((await response.get_json())["data"])


def envelope_of(received: Any) -> tuple[str, tuple[str, ...], str | None]:
    return received.subject, tuple(sorted(received.recipients)), received.message["Cc"]


async def test_a_member_added_by_the_owner_or_an_admin_is_told(
    client: Any, made: dict[str, Any], users: Any, smtp_server: Any
) -> None:
    members = f"/api/account/instances/{made['uid']}/members"
    # refused (already a member, unknown user): nothing written, nothing sent
    assert (
        await client.post(members, headers=users["ada"], json={"userId": "1001", "role": "USER"})
    ).status_code == 400
    assert (
        await client.post(members, headers=users["ada"], json={"userId": "9999", "role": "USER"})
    ).status_code == 400
    added = await client.post(
        members, headers=users["ada"], json={"userId": "1002", "role": "USER"}
    )
    assert added.status_code == 200
    (received,) = await smtp_server.wait_for(1)
    assert envelope_of(received) == (
        "[VISA] You have been added as a member to an instance",
        ("alan@example.org",),
        None,
    )
    assert made["name"] in received.body
    by_admin = await client.post(
        members, headers=users["admin"], json={"userId": "1003", "role": "GUEST"}
    )
    assert by_admin.status_code == 200
    _, second = await smtp_server.wait_for(2)
    assert second.recipients == ("grace@example.org",)


async def test_no_email_when_an_invitation_is_accepted(
    client: Any, made: dict[str, Any], users: Any, smtp_server: Any
) -> None:
    invitation = await client.post(
        f"/api/account/instances/{made['id']}/personal_access_tokens",
        headers=users["ada"],
        json={"name": "for Alan", "role": "USER"},
    )
    token = (await invitation.get_json())["data"]["token"]
    joined = await client.get(
        f"/api/account/instances/{made['uid']}?access_token={token}", headers=users["alan"]
    )
    assert (await joined.get_json())["data"]["membership"]["user"]["id"] == "1002"
    # the next email is the first one: joining sent nothing
    await client.post(
        f"/api/account/instances/{made['uid']}/members",
        headers=users["ada"],
        json={"userId": "1003", "role": "GUEST"},
    )
    (received,) = await smtp_server.wait_for(1)
    assert received.recipients == ("grace@example.org",)


async def test_an_extension_request_tells_the_administrators(
    client: Any, app: Any, made: dict[str, Any], users: Any, smtp_server: Any
) -> None:
    path = f"/api/account/instances/{made['uid']}/extension"
    broker = runtime(app.app).broker
    async with broker.subscribe("admin", "admin-tab", frozenset({"ADMIN"})) as admin:
        first = await client.post(path, headers=users["ada"], json={"comments": "beamtime moved"})
        assert first.status_code == 200
        assert (await admin.queue.get()).type == "admin:extension_requests_changed"
        (received,) = await smtp_server.wait_for(1)
        assert envelope_of(received) == (
            "[VISA] An instance extension request has been made",
            (ADMINS,),
            None,
        )
        assert "beamtime moved" in received.body
        # the same pending request again: no new email, no event
        assert (await client.post(path, headers=users["ada"], json={})).status_code == 200
        await client.post(
            f"/api/account/instances/{made['uid']}/members",
            headers=users["ada"],
            json={"userId": "1002", "role": "USER"},
        )
        messages = await smtp_server.wait_for(2)
        assert [m.recipients for m in messages] == [(ADMINS,), ("alan@example.org",)]
        assert admin.queue.empty()


async def test_an_automatic_acceptance_tells_the_owner_with_admins_in_copy(
    client: Any,
    made: dict[str, Any],
    facility: Facility,
    users: Any,
    smtp_server: Any,
    db_session: Any,
) -> None:
    image = await db_session.get(Image, facility.plan.image_id)
    image.auto_accept_extension_request = ImageAutoAcceptExtensionRequest.ALL
    await db_session.commit()
    response = await client.post(
        f"/api/account/instances/{made['uid']}/extension",
        headers=users["ada"],
        json={"comments": "please"},
    )
    assert response.status_code == 200
    received = sorted(map(envelope_of, await smtp_server.wait_for(2)))
    assert received == [
        (
            "[VISA] An instance extension request has been made (automatically accepted)",
            (ADMINS,),
            None,
        ),
        (
            "[VISA] Your instance has been granted an extended lifetime",
            tuple(sorted(("ada@example.org", ADMINS))),
            ADMINS,
        ),
    ]
