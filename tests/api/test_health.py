"""GET /api/health: no authentication, reports database reachability."""

from __future__ import annotations

from typing import Any

from visa_platform import __version__
from visa_platform.runtime import runtime


async def test_health_reports_ok_with_a_reachable_database(client: Any) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert await response.get_json() == {
        "data": {
            "globalState": {"status": "OK", "message": None},
            "databaseState": {"status": "OK", "message": None},
            "version": __version__,
        }
    }


async def test_health_reports_503_when_the_database_is_gone(app: Any, client: Any) -> None:
    from visa_platform.db.engine import create_engine

    state = runtime(app.app)
    working = state.engine
    # point the app at a database that cannot be reached, then restore it
    state.engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none", schema="visa")
    try:
        response = await client.get("/api/health")
    finally:
        await state.engine.dispose()
        state.engine = working
    assert response.status_code == 503
    body = await response.get_json()
    assert body["data"]["globalState"]["status"] == "NOT_OK"
    assert body["data"]["databaseState"] == {"status": "NOT_OK", "message": "database unreachable"}


async def test_unknown_api_path_is_404(client: Any) -> None:
    assert (await client.get("/api/no-such-thing")).status_code == 404
