"""/api/instruments: every instrument, and one by numeric id."""

from __future__ import annotations

from typing import Any

import pytest

from visa_platform.db.models import Instrument
from visa_platform.testing.accounts import StaticAccounts, bearer


async def test_lists_instruments_by_name(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    db_session.add_all([Instrument(id=3, name="IN5"), Instrument(id=1, name="D22"),
                        Instrument(id=2, name="BRISP")])  # fmt: skip
    await db_session.commit()
    response = await client.get("/api/instruments", headers=bearer(accounts.add("1001")))
    assert response.status_code == 200
    assert await response.get_json() == {
        "data": [{"id": 2, "name": "BRISP"}, {"id": 1, "name": "D22"}, {"id": 3, "name": "IN5"}]
    }


async def test_empty_catalogue(client: Any, accounts: StaticAccounts) -> None:
    response = await client.get("/api/instruments", headers=bearer(accounts.add("1001")))
    assert await response.get_json() == {"data": []}


async def test_one_instrument(client: Any, db_session: Any, accounts: StaticAccounts) -> None:
    db_session.add(Instrument(id=3, name="IN5"))
    await db_session.commit()
    token = accounts.add("1001")
    response = await client.get("/api/instruments/3", headers=bearer(token))
    assert (response.status_code, await response.get_json()) == (
        200, {"data": {"id": 3, "name": "IN5"}}
    )  # fmt: skip
    for bad in ("4", "abc", "-3", "3.0", "99999999999999999999"):
        response = await client.get(f"/api/instruments/{bad}", headers=bearer(token))
        assert response.status_code == 404, bad


@pytest.mark.parametrize("path", ["/api/instruments", "/api/instruments/1"])
async def test_anonymous_is_401(client: Any, path: str) -> None:
    assert (await client.get(path)).status_code == 401
