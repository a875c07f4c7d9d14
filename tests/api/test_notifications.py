"""/api/notifications: active system notifications, admin counters, acknowledgements."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from visa_platform.db.models import Instance, SystemNotification
from visa_platform.domain.enums import (
    InstanceState,
    SystemNotificationLevel,
    SystemNotificationType,
)
from visa_platform.testing.accounts import StaticAccounts, bearer

ACTIVATED = datetime(2026, 3, 25, 13, 15, 36, 123000, tzinfo=UTC)


async def seed(db_session: Any) -> tuple[SystemNotification, SystemNotification]:
    banner = SystemNotification(
        message="Maintenance", level=SystemNotificationLevel.WARN, activated_at=ACTIVATED
    )
    modal = SystemNotification(
        message="New images",
        level=SystemNotificationLevel.INFO,
        type=SystemNotificationType.MODAL,
        activated_at=ACTIVATED,
    )
    hidden = SystemNotification(message="draft", level=SystemNotificationLevel.INFO)
    deleted = SystemNotification(
        message="old",
        level=SystemNotificationLevel.ERROR,
        activated_at=ACTIVATED,
        deleted_at=ACTIVATED,
    )
    db_session.add_all([banner, modal, hidden, deleted])
    db_session.add(
        Instance(
            uid="err00001",
            name="broken",
            state=InstanceState.ERROR,
            screen_width=1,
            screen_height=1,
            keyboard_layout="en-gb-qwerty",
        )
    )
    await db_session.commit()
    return banner, modal


async def test_anonymous_sees_active_notifications_newest_first(
    client: Any, db_session: Any
) -> None:
    banner, modal = await seed(db_session)
    body = await (await client.get("/api/notifications")).get_json()
    assert body["data"]["adminNotifications"] is None
    shown = body["data"]["systemNotifications"]
    assert [n["id"] for n in shown] == [modal.id, banner.id]
    first = shown[1]
    assert first == {
        "id": banner.id,
        "uid": zlib.crc32(
            f"{banner.id}-Maintenance-WARN-{int(ACTIVATED.timestamp() * 1000)}".encode()
        ),
        "message": "Maintenance",
        "level": "WARN",
        "type": "BANNER",
        "createdAt": first["createdAt"],
        "activatedAt": "2026-03-25T13:15:36.123+00:00",
    }
    assert shown[0]["type"] == "MODAL"


async def test_admin_gets_counters(client: Any, db_session: Any, accounts: StaticAccounts) -> None:
    await seed(db_session)
    user = accounts.add("1001")
    as_user = await (await client.get("/api/notifications", headers=bearer(user))).get_json()
    assert as_user["data"]["adminNotifications"] is None
    admin = bearer(accounts.admin_token)
    as_admin = await (await client.get("/api/notifications", headers=admin)).get_json()
    assert as_admin["data"]["adminNotifications"] == [{"tag": "instance.errors", "count": 1}]


async def test_acknowledgements(client: Any, db_session: Any, accounts: StaticAccounts) -> None:
    _, modal = await seed(db_session)
    me = bearer(accounts.add("1001"))
    assert (await (await client.get("/api/notifications/acknowledged", headers=me)).get_json()) == {
        "data": []
    }
    for _ in range(2):  # idempotent
        response = await client.post(
            "/api/notifications/acknowledged", headers=me, data=str(modal.id)
        )
        assert response.status_code == 200
        assert await response.get_json() == {"data": modal.id}
    listed = await client.get("/api/notifications/acknowledged", headers=me)
    assert (await listed.get_json()) == {"data": [modal.id]}
    other = bearer(accounts.add("1002"))
    assert (
        await (await client.get("/api/notifications/acknowledged", headers=other)).get_json()
    ) == {"data": []}


async def test_acknowledge_bad_input(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    me = bearer(accounts.add("1001"))
    unknown = await client.post("/api/notifications/acknowledged", headers=me, data="999999")
    assert unknown.status_code == 404
    for body in ("{not json", '"12"', "true", ""):
        response = await client.post("/api/notifications/acknowledged", headers=me, data=body)
        assert response.status_code == 400, body
        assert (await response.get_json())["errors"][0]
    assert (await client.post("/api/notifications/acknowledged", data="1")).status_code == 401
