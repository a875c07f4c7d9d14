"""create_app: settings, plugins, lifespan (engine opened and closed, fixtures seeded)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from visa_platform.app import create_app
from visa_platform.plugin import PluginHost
from visa_platform.runtime import runtime


async def test_lifespan_opens_engine_seeds_roles_and_closes(settings: Any, db_engine: Any) -> None:
    from visa_platform.db.models import Role

    app = create_app(settings, plugins=PluginHost())
    state = runtime(app)
    assert state.engine is None
    async with app.test_app():
        assert state.engine is not None
        async with state.session() as session:
            names = set((await session.execute(select(Role.name))).scalars())
        assert names == {
            "ADMIN",
            "STAFF",
            "IT_SUPPORT",
            "INSTRUMENT_SCIENTIST",
            "INSTRUMENT_CONTROL",
            "SCIENTIFIC_COMPUTING",
            "GUEST",
        }
    assert state.engine is None


async def test_restart_does_not_seed_twice(settings: Any, db_engine: Any) -> None:
    from visa_platform.db.models import Protocol, Role

    for _ in range(2):
        app = create_app(settings, plugins=PluginHost())
        async with app.test_app(), runtime(app).session() as session:
            roles = (await session.execute(select(func.count()).select_from(Role))).scalar()
            protocols = (await session.execute(select(func.count()).select_from(Protocol))).scalar()
    assert (roles, protocols) == (7, 6)


def test_create_app_loads_entry_point_plugins_from_settings(settings: Any) -> None:
    app = create_app(settings)
    names = {p.name: p.status for p in runtime(app).plugins.plugins()}
    assert names["eventlog"] == "loaded"
    denied = create_app(settings.model_copy(update={"plugins_deny": ["eventlog"]}))
    assert {p.name: p.status for p in runtime(denied).plugins.plugins()}["eventlog"] == "disabled"


def test_session_outside_serving_is_an_error(settings: Any) -> None:
    import pytest

    app = create_app(settings, plugins=PluginHost())
    with pytest.raises(RuntimeError, match="not serving"):
        runtime(app).session()
