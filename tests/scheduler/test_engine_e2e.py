"""Through the REST API on the fake OpenStack: BUILDING -> ACTIVE, stop, start, reboot, delete.

The jobs are driven by the test (the executor and the state sync, as the scheduler would run
them); the port check probes a real socket listening on the instance's loopback address.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from visa_platform.config import load_settings
from visa_platform.db.models import Flavour, Image, Instance, InstanceCommand, Plan, Protocol
from visa_platform.domain.enums import InstanceState
from visa_platform.runtime import runtime
from visa_platform.scheduler.commands import CommandExecutor
from visa_platform.scheduler.jobs import engine_context, queue_requested_deletions
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.engine import state_is, sync_until
from visa_platform.testing.fake_openstack import FakeOpenStack

LAYOUT = "en-gb-qwerty"
#: The fake cloud answers at once: short state-sync rounds, ~10 s in all.
FAST = {"within": 10.0, "interval": 0.1}


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path, fake_openstack: FakeOpenStack) -> Any:
    return load_settings(
        database_url=test_database.url,
        database_schema=test_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
        scheduler_enabled=False,
        client_config_desktop_keyboard_layouts=[
            {"layout": LAYOUT, "name": "English (UK)", "selected": True}
        ],
        **fake_openstack.default_cloud_settings(),
        cloud_server_name_prefix="E2E",
        instance_port_check_timeout_ms=300,
    )


async def test_instance_life_through_the_rest_api(
    app: Any, accounts: Any, fake_openstack: FakeOpenStack
) -> None:
    state = runtime(app.app)  # app is the running TestApp
    client = app.test_client()
    admin = {"Authorization": f"Bearer {accounts.admin_token}"}
    async with state.session() as session:
        guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
        image = Image(
            name="Desktop",
            icon="d.png",
            compute_id=fake_openstack.images[0]["id"],
            visible=True,
            deleted=False,
            boot_command="#!/bin/sh\necho ready",
        )
        image.protocols = [guacd]  # type: ignore[list-item]
        flavour = Flavour(name="Small", cpu=1, memory=2048, compute_id="1", deleted=False)
        plan = Plan(image=image, flavour=flavour, preset=True)
        session.add(plan)
        await session.commit()
        plan_id = plan.id

    body = {
        "name": "e2e desktop",
        "comments": None,
        "planId": plan_id,
        "lifetimeMinutes": None,
        "screenWidth": 1280,
        "screenHeight": 1024,
        "acceptedTerms": True,
        "experiments": [],
        "keyboardLayout": LAYOUT,
        "vdiProtocolId": None,
        "bookingTokenId": None,
    }
    response = await client.post("/api/account/instances", headers=admin, json=body)
    assert response.status_code == 200, await response.get_data()
    created = (await response.get_json())["data"]
    instance_id = created["id"]
    assert created["state"] == "BUILDING"

    ctx = engine_context(state)
    executor = CommandExecutor(ctx, backoff=0.05)

    async def execute() -> None:
        await executor.run_pending()
        await executor.wait_idle()

    await execute()
    [server] = fake_openstack.servers.values()
    assert server["name"] == f"E2E-{instance_id}"
    assert server["metadata"]["id"] == str(instance_id)

    # BUILD -> ACTIVE in the cloud; nothing listens yet: STARTING
    instance = await sync_until(ctx, instance_id, state_is(InstanceState.STARTING), **FAST)
    assert instance.ip_address and instance.ip_address.startswith("127.0.")
    assert instance.active_at is None

    # the desktop comes up: a real socket on the instance's loopback address
    listener = socket.socket()
    listener.bind((instance.ip_address, 0))
    listener.listen()
    try:
        port = listener.getsockname()[1]
        async with state.session() as session:
            await session.execute(
                update(Protocol).where(Protocol.name.in_(["GUACD", "RDP"])).values(port=port)
            )
            await session.commit()
        instance = await sync_until(ctx, instance_id, state_is(InstanceState.ACTIVE), **FAST)
        assert instance.active_at is not None and instance.active_protocols == "GUACD"
        shown = await client.get(f"/api/account/instances/{instance_id}", headers=admin)
        assert (await shown.get_json())["data"]["state"] == "ACTIVE"

        for action, during, after in [
            ("shutdown", "STOPPING", InstanceState.STOPPED),
            ("start", "STARTING", InstanceState.ACTIVE),
            ("reboot", "REBOOTING", InstanceState.ACTIVE),
        ]:
            answer = await client.post(
                f"/api/account/instances/{instance_id}/actions/{action}", headers=admin
            )
            assert (await answer.get_json())["data"]["state"] == during
            await execute()
            await sync_until(ctx, instance_id, state_is(after), **FAST)

        # delete a running instance: stop first, then the delete job deletes it
        answer = await client.delete(f"/api/account/instances/{instance_id}", headers=admin)
        assert (await answer.get_json())["data"]["state"] == "STOPPING"
        await execute()
        await sync_until(ctx, instance_id, state_is(InstanceState.STOPPED), **FAST)
        assert await queue_requested_deletions(ctx) == 1
        await execute()
    finally:
        listener.close()

    async with state.session() as session:
        instance = await session.get(Instance, instance_id)
        assert instance is not None
        assert instance.state is InstanceState.DELETED and instance.deleted_at is not None
        commands = (
            await session.scalars(select(InstanceCommand).order_by(InstanceCommand.id))
        ).all()
    assert fake_openstack.servers == {}
    assert [(c.action_type.value, c.state.value) for c in commands] == [
        ("CREATE", "TERMINATED"),
        ("SHUTDOWN", "TERMINATED"),
        ("START", "TERMINATED"),
        ("REBOOT", "TERMINATED"),
        ("SHUTDOWN", "TERMINATED"),
        ("DELETE", "TERMINATED"),
    ]
    gone = await client.get(f"/api/account/instances/{instance_id}", headers=admin)
    assert gone.status_code == 404
