"""The embedded defaults: SQLite, the static accounts, the ``local`` cloud and a seeded catalogue.

Through the REST API an instance on the seeded plan becomes a real desktop on this host
(BUILDING -> ACTIVE by the port check on its VNC port), and stops, starts and goes away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local_rig import needs_tigervnc
from sqlalchemy import func, select

from visa_local.backend import LocalBackend, purge_directory
from visa_platform.accounts.static import ensure_token_file, token_file
from visa_platform.app import create_app
from visa_platform.config import Settings, load_settings
from visa_platform.db.engine import create_engine
from visa_platform.db.migrate import upgrade
from visa_platform.db.models import Image, Plan
from visa_platform.domain.enums import InstanceState
from visa_platform.runtime import runtime
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.scheduler.jobs import engine_context, queue_requested_deletions
from visa_platform.testing.engine import state_is, sync_until


def embedded(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        environ={}, data_dir=tmp_path / "data", scheduler_enabled=False, **overrides
    )


def test_the_default_cloud_is_local_only_on_the_embedded_defaults(tmp_path: Path) -> None:
    assert embedded(tmp_path).default_cloud_type() == "local"
    assert embedded(tmp_path, database_url="postgresql://db/visa").default_cloud_type() == (
        "openstack"
    )
    assert embedded(tmp_path, cloud_identity_endpoint="http://keystone").default_cloud_type() == (
        "openstack"
    )
    assert embedded(tmp_path, default_cloud_provider_type="web").default_cloud_type() == "web"


async def migrated(settings: Settings) -> None:
    """What ``visa serve`` does first."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.sqlalchemy_url(), schema=settings.database_schema)
    try:
        await upgrade(engine, settings.database_schema)
    finally:
        await engine.dispose()


@needs_tigervnc
async def test_a_desktop_on_the_embedded_defaults(tmp_path: Path) -> None:
    settings = embedded(tmp_path, instance_port_check_timeout_ms=300)
    await migrated(settings)
    token = ensure_token_file(token_file(settings))
    assert token is not None
    admin = {"Authorization": f"Bearer {token}"}

    try:
        await desktop_life(settings, admin)
    finally:  # desktops outlive the server by design: stop this test's
        await purge_directory(settings.data_dir / "clouds" / "default")


async def desktop_life(settings: Settings, admin: dict[str, str]) -> None:
    app = create_app(settings)
    async with app.test_app() as running:
        state = runtime(app)
        assert state.clouds is not None and state.clouds.default is not None
        backend = state.clouds.default.backend
        assert isinstance(backend, LocalBackend)
        assert backend.settings.state_directory == (settings.data_dir / "clouds/default").resolve()

        client = running.test_client()
        plans = (await (await client.get("/api/plans", headers=admin)).get_json())["data"]
        assert [(p["image"]["name"], p["flavour"]["name"]) for p in plans] == [
            ("Terminal (xterm)", "Small")
        ]
        body = {
            "name": "my first desktop",
            "planId": plans[0]["id"],
            "screenWidth": 1024,
            "screenHeight": 768,
            "acceptedTerms": True,
            "experiments": [],
            "keyboardLayout": "en-gb-qwerty",
        }
        response = await client.post("/api/account/instances", headers=admin, json=body)
        assert response.status_code == 200, await response.get_data()
        instance_id = (await response.get_json())["data"]["id"]

        ctx = engine_context(state)
        executor = CommandExecutor(ctx, backoff=0.05)

        async def execute() -> None:
            await executor.run_pending()
            await executor.wait_idle()

        await execute()
        instance = await sync_until(ctx, instance_id, state_is(InstanceState.ACTIVE))
        assert instance.ip_address and instance.ip_address.startswith("127.77.")
        assert instance.active_protocols == "VNC"
        assert instance.compute_id is not None
        assert backend.vnc_secret(instance.compute_id)

        for action, after in [("shutdown", InstanceState.STOPPED), ("start", InstanceState.ACTIVE)]:
            answer = await client.post(
                f"/api/account/instances/{instance_id}/actions/{action}", headers=admin
            )
            assert answer.status_code == 200
            await execute()
            await sync_until(ctx, instance_id, state_is(after))

        answer = await client.delete(f"/api/account/instances/{instance_id}", headers=admin)
        assert answer.status_code == 200
        await execute()
        await sync_until(ctx, instance_id, state_is(InstanceState.STOPPED))
        assert await queue_requested_deletions(ctx) == 1
        await execute()
        await sync_until(ctx, instance_id, lambda i: i.deleted_at is not None)
        assert await backend.list_instances() == []
        await executor.stop()

    # a second start seeds nothing more
    async with app.test_app(), runtime(app).session() as session:
        assert await session.scalar(select(func.count()).select_from(Image)) == 1
        assert await session.scalar(select(func.count()).select_from(Plan)) == 1
