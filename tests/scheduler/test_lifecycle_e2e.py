"""Three simulated weeks of instances created through the REST API on the fake OpenStack, with
the real scheduler (every job) on a ManualClock and the emails at a real SMTP server.

Each step jumps the clock and ticks the scheduler once, so weeks pass in a few seconds; after
each tick the test waits for the outbox to be empty and files the new emails under that time.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from visa_platform.config import load_settings
from visa_platform.db.models import (
    Flavour,
    Image,
    Instance,
    InstanceExpiration,
    Plan,
    Protocol,
    User,
)
from visa_platform.domain.enums import ImageAutoAcceptExtensionRequest, InstanceState
from visa_platform.runtime import runtime
from visa_platform.scheduler import ManualClock
from visa_platform.scheduler.jobs import build_scheduler, engine_context
from visa_platform.testing.accounts import bearer
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.fake_openstack import FakeOpenStack
from visa_platform.testing.smtp import SmtpServer

LAYOUT = "en-gb-qwerty"
P = 5 / 60  # one period of the lifecycle job, in hours
SUBJECTS = {
    "[VISA] Your instance will soon expire due to inactivity": "expiring",
    "[VISA] Your instance will soon be deleted due to reaching its maximum lifetime": "lifetime",
    "[VISA] Your instance has been deleted": "deleted",
}


@pytest.fixture
def settings(
    test_database: TestDatabase,
    tmp_path: Path,
    fake_openstack: FakeOpenStack,
    smtp_server: SmtpServer,
) -> Any:
    return load_settings(
        database_url=test_database.url,
        database_schema=test_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
        scheduler_enabled=False,  # the test builds and ticks the scheduler itself
        client_config_desktop_keyboard_layouts=[
            {"layout": LAYOUT, "name": "English (UK)", "selected": True}
        ],
        **fake_openstack.default_cloud_settings(),
        cloud_server_name_prefix="LC",
        notification_email_adapter_enabled=True,
        notification_email_adapter_host="127.0.0.1",
        notification_email_adapter_port=smtp_server.port,
        notification_email_adapter_from_email_address="visa@example.org",
        root_url="https://visa.example.org",
    )


async def test_three_weeks_of_expiry_through_the_rest_api(
    app: Any,
    accounts: Any,
    fake_openstack: FakeOpenStack,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = runtime(app.app)
    client = app.test_client()
    fake_openstack.build_seconds = 0
    clock = ManualClock()
    start = clock.now()
    # the API's own time follows the simulated clock too (creation, the Jupyter proxy's GET)
    monkeypatch.setattr("visa_platform.services.instances.utcnow", clock.now)
    monkeypatch.setattr("visa_platform.api.rest.jupyter.utcnow", clock.now)
    ada = bearer(accounts.add("3003", roles=["ADMIN"], first_name="Ada", email="ada@ex.org"))
    grace = bearer(
        accounts.add("4004", roles=["ADMIN", "STAFF"], first_name="Grace", email="grace@ex.org")
    )

    async with state.session() as session:
        guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
        image = Image(
            name="Desktop",
            icon="d.png",
            compute_id=fake_openstack.images[0]["id"],
            visible=True,
            deleted=False,
            boot_command="#!/bin/sh\necho ready",
            auto_accept_extension_request=ImageAutoAcceptExtensionRequest.ALL,
        )
        image.protocols = [guacd]  # type: ignore[list-item]
        flavour = Flavour(name="Small", cpu=1, memory=2048, compute_id="1", deleted=False)
        plan = Plan(image=image, flavour=flavour, preset=True)
        session.add(plan)
        await session.commit()
        plan_id = plan.id

    async def create(name: str, owner: dict[str, str], lifetime_hours: int | None = None) -> int:
        body: dict[str, Any] = {
            "name": name,
            "comments": None,
            "planId": plan_id,
            "lifetimeMinutes": None if lifetime_hours is None else lifetime_hours * 60,
            "screenWidth": 1280,
            "screenHeight": 1024,
            "acceptedTerms": True,
            "experiments": [],
            "keyboardLayout": LAYOUT,
            "vdiProtocolId": None,
            "bookingTokenId": None,
        }
        response = await client.post("/api/account/instances", headers=owner, json=body)
        assert response.status_code == 200, await response.get_data()
        return int((await response.get_json())["data"]["id"])

    alpha = await create("alpha", ada)  # user: 96 h of inactivity
    async with state.session() as session:  # more instances than the default quota
        await session.execute(update(User).where(User.id == "3003").values(instance_quota=-1))
        await session.commit()
    ids = {
        "alpha": alpha,
        "bravo": await create("bravo", grace),  # staff: 192 h of inactivity
        "charlie": await create("charlie", ada, lifetime_hours=50),  # lifetime
        "delta": await create("delta", ada),  # immortal
        "echo": await create("echo", ada),  # booked
        "foxtrot": await create("foxtrot", ada),  # used again after its warning
        "golf": await create("golf", ada, lifetime_hours=50),  # extended after its warning
    }
    names = {v: k for k, v in ids.items()}
    async with state.session() as session:
        await session.execute(
            update(Instance).where(Instance.id == ids["delta"]).values(termination_date=None)
        )
        await session.execute(
            update(Instance).where(Instance.id == ids["echo"]).values(booking_token_id=77)
        )
        await session.commit()

    async def always_open(host: str, port: int, seconds: float) -> bool:
        return True  # the port check itself is tested elsewhere

    ctx = dataclasses.replace(engine_context(state, clock), probe=always_open)
    scheduler, executor = build_scheduler(ctx, clock=clock)
    received: list[tuple[float, str, str, str, str]] = []
    seen = 0

    async def at(hours: float) -> None:
        clock.advance((start + timedelta(hours=hours) - clock.now()).total_seconds())
        await scheduler.tick()
        await scheduler.drain()
        await executor.wait_idle()
        assert await state.notifications.join(10)
        nonlocal seen
        new, seen = smtp_server.messages[seen:], len(smtp_server.messages)
        for message in new:
            kind = SUBJECTS.get(message.subject)
            if kind is None:
                continue  # e.g. the extension's own email (not this test's business)
            body = message.body
            instance = next(n for n in ids if f">{n}<" in body)
            reason = ""
            if kind == "deleted":
                reason = "lifetime" if "maximum lifetime" in body else "inactivity"
            received.append((round(hours, 3), kind, instance, reason, ",".join(message.recipients)))

    async def states() -> dict[str, InstanceState]:
        async with state.session() as session:
            rows = await session.execute(select(Instance.id, Instance.state))
            return {names[i]: s for i, s in rows}

    # BUILDING -> ACTIVE through the command executor and the state sync jobs
    for minute in range(1, 6):
        await at(minute / 60)
        if set((await states()).values()) == {InstanceState.ACTIVE}:
            break
    assert set((await states()).values()) == {InstanceState.ACTIVE}
    assert len(fake_openstack.servers) == 7

    async def jupyter(name: str) -> None:
        response = await client.get(f"/api/jupyter/instances/{ids[name]}", headers=ada)
        assert response.status_code == 200

    async def expiration(name: str) -> Any:
        async with state.session() as session:
            return await session.scalar(
                select(InstanceExpiration.expiration_date).where(
                    InstanceExpiration.instance_id == ids[name]
                )
            )

    for hours in (2, 2 + P, 10):
        await at(hours)
    # golf is extended (the image accepts at once): its lifetime expiration goes
    response = await client.post(
        f"/api/account/instances/{ids['golf']}/extension", headers=ada, json={"comments": "more"}
    )
    assert response.status_code == 200, await response.get_data()
    assert await expiration("golf") is None
    for hours in (50, 52, 52 + P):
        await at(hours)
    # the owner's Jupyter GET does not cancel a lifetime expiration
    await jupyter("golf")
    assert await expiration("golf") == start + timedelta(hours=100)
    for hours in (60, 72, 72 + P):
        await at(hours)
    # foxtrot is used again after its warning (the Jupyter proxy's GET by the owner)
    assert await expiration("foxtrot") == start + timedelta(hours=96)
    await at(80)
    await jupyter("foxtrot")
    assert await expiration("foxtrot") is None
    for hours in (96, 100, 152, 152 + P, 168, 168 + P, 176, 192, 288, 288 + P, 336):
        await at(hours)
    for day in range(15, 22):
        await at(day * 24)

    ada_to, grace_to = "ada@ex.org", "grace@ex.org"
    assert sorted(received) == [
        (round(2 + P, 3), "lifetime", "charlie", "", ada_to),
        (round(2 + P, 3), "lifetime", "golf", "", ada_to),
        (50, "deleted", "charlie", "lifetime", ada_to),
        (round(52 + P, 3), "lifetime", "golf", "", ada_to),
        (round(72 + P, 3), "expiring", "alpha", "", ada_to),
        (round(72 + P, 3), "expiring", "foxtrot", "", ada_to),
        (96, "deleted", "alpha", "inactivity", ada_to),
        (100, "deleted", "golf", "lifetime", ada_to),
        (round(152 + P, 3), "expiring", "foxtrot", "", ada_to),
        (round(168 + P, 3), "expiring", "bravo", "", grace_to),
        (176, "deleted", "foxtrot", "inactivity", ada_to),
        (192, "deleted", "bravo", "inactivity", grace_to),
        (round(288 + P, 3), "lifetime", "echo", "", ada_to),
        (336, "deleted", "echo", "lifetime", ada_to),
    ]
    lifecycle_ids = [m.message["Message-ID"] for m in smtp_server.messages if m.subject in SUBJECTS]
    assert len(set(lifecycle_ids)) == len(lifecycle_ids) == len(received)
    final = await states()
    assert final.pop("delta") is InstanceState.ACTIVE  # immortal
    assert set(final.values()) == {InstanceState.DELETED}
    assert len(fake_openstack.servers) == 1
    await scheduler.stop()
    await executor.stop()
