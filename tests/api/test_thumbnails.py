"""Instance thumbnails: JPEG upload by the owner, download with a placeholder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from instance_fixtures import Facility, creation, instance_settings
from quart.datastructures import FileStorage

from visa_platform.services.thumbnails import placeholder
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    return instance_settings(test_database, tmp_path)


def upload(data: bytes, name: str = "file") -> dict[str, Any]:
    import io

    return {
        "files": {name: FileStorage(io.BytesIO(data), filename="t.jpg", content_type="image/jpeg")}
    }


async def test_upload_and_download(
    client: Any, facility: Facility, accounts: StaticAccounts
) -> None:
    ada, alan = bearer(accounts.add("1001")), bearer(accounts.add("1002"))
    admin = bearer(accounts.admin_token)
    made = await client.post(
        "/api/account/instances", headers=ada, json=creation(facility.plan.id, ["e-1"])
    )
    data = (await made.get_json())["data"]
    path = f"/api/account/instances/{data['uid']}/thumbnail"
    before = await client.get(path, headers=ada)
    assert before.content_type == "image/jpeg"
    assert await before.get_data() == placeholder()
    stored = await client.post(path, headers=ada, **upload(JPEG))
    assert stored.status_code == 200 and await stored.get_json() == {"data": None}
    assert await (await client.get(path, headers=ada)).get_data() == JPEG
    admin_view = await client.get(f"/api/instances/{data['id']}/thumbnail", headers=admin)
    assert await admin_view.get_data() == JPEG
    assert (
        await client.get(f"/api/instances/{data['id']}/thumbnail", headers=ada)
    ).status_code == 403
    # strangers get the placeholder (support staff use it) and may not upload
    assert await (await client.get(path, headers=alan)).get_data() == placeholder()
    assert (await client.post(path, headers=alan, **upload(JPEG))).status_code == 404
    replaced = JPEG.replace(b"\x00", b"\x01")
    await client.post(path, headers=ada, **upload(replaced))
    assert await (await client.get(path, headers=ada)).get_data() == replaced


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"GIF89a....", "file", "must be a JPEG"),
        (b"", "file", "empty"),
        (JPEG, "picture", "'file' is missing"),
        (b"\xff\xd8\xff" + b"\x00" * 600_000 + b"\xff\xd9", "file", "larger than"),
    ],
)
async def test_bad_uploads_are_refused(
    client: Any,
    facility: Facility,
    accounts: StaticAccounts,
    data: bytes,
    name: str,
    message: str,
) -> None:
    ada = bearer(accounts.add("1001"))
    made = await client.post(
        "/api/account/instances", headers=ada, json=creation(facility.plan.id, ["e-1"])
    )
    uid = (await made.get_json())["data"]["uid"]
    response = await client.post(
        f"/api/account/instances/{uid}/thumbnail", headers=ada, **upload(data, name)
    )
    assert response.status_code == 400
    assert message in (await response.get_json())["errors"][0]
    assert (
        await client.get("/api/account/instances/nope1234/thumbnail", headers=ada)
    ).status_code == 404


async def test_uploads_from_support_staff_are_answered_and_ignored(
    client: Any, facility: Facility, accounts: StaticAccounts
) -> None:
    """visa-web's support view uploads thumbnails too; VISA answers and keeps nothing."""
    ada = bearer(accounts.add("1001"))
    sam = bearer(accounts.add("2001", roles=["IT_SUPPORT"]))
    made = await client.post(
        "/api/account/instances", headers=ada, json=creation(facility.plan.id, ["e-1"])
    )
    path = f"/api/account/instances/{(await made.get_json())['data']['uid']}/thumbnail"
    ignored = await client.post(path, headers=sam, **upload(JPEG))
    assert ignored.status_code == 200 and await ignored.get_json() == {"data": None}
    assert await (await client.get(path, headers=ada)).get_data() == placeholder()
