"""Rows across restarts, the real server and the event gateway around the desktop."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import aiohttp
from desktop_rig import OWNER, SUPPORT, USER, Desk, build_desk, event_data

from visa_platform.app import create_app
from visa_platform.db.models import InstanceSession, InstanceSessionMember
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.plugin.types import InstanceEvent
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.fake_guacd import FakeGuacd
from visa_platform.testing.servers import serve_asgi


async def test_stopping_the_server_ends_every_member(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-ada") as tab, desk.connected(USER, "tab-alan"):
        await desk.service.stop()
        assert await tab.closed() == 1000
    assert [active for *_, active in await desk.members()] == [False, False]
    assert [current for _, current in await desk.sessions()] == [False]


def state_change(desk: Desk, instance_id: int, state: str) -> InstanceEvent:
    return InstanceEvent(
        instance_id=instance_id,
        uid=desk.instance_uid,
        name="my desktop",
        state=state,
        owner_id=OWNER,
        plan_id=None,
        compute_id=None,
        occurred_at=utcnow(),
    )


async def test_an_instance_going_down_disconnects_its_clients(desk: Desk) -> None:
    plugins = runtime(desk.app.app).plugins
    assert "visa_instance_state_changed" in {p.name: p for p in plugins.plugins()}["desktop"].hooks
    async with desk.connected(OWNER, "tab-ada") as tab, desk.connected(USER, "tab-alan"):
        await plugins.instance_state_changed(state_change(desk, desk.instance_id, "ACTIVE"), "")
        await plugins.instance_state_changed(state_change(desk, 999, "STOPPING"), "ACTIVE")
        assert len(desk.service.members) == 2
        await plugins.instance_state_changed(
            state_change(desk, desk.instance_id, "STOPPING"), "ACTIVE"
        )
        assert await tab.closed() == 1000
    await desk.settle()
    assert [active for *_, active in await desk.members()] == [False, False]


async def test_cleanup_on_startup_forgets_what_a_crashed_run_left(
    settings: Any, fake_guacd: FakeGuacd, db_engine: Any
) -> None:
    crashed = settings.model_copy(update={"vdi_cleanup_sessions_on_startup": True})
    app = create_app(settings)
    async with app.test_app() as test_app:
        desk = await build_desk(test_app, fake_guacd)
        async with desk.session() as db:  # rows of a process that died without cleaning up
            row = InstanceSession(
                instance_id=desk.instance_id, protocol="guacamole", connection_id="$x", current=True
            )
            db.add(row)
            await db.flush()
            db.add(
                InstanceSessionMember(
                    instance_session_id=row.id,
                    session_id="tab-ghost",
                    user_id=OWNER,
                    role=InstanceMemberRole.OWNER,
                    active=True,
                )
            )
            await db.commit()
    async with create_app(crashed).test_app() as restarted:
        desk.app = restarted
        assert await desk.sessions() == [("$x", False)]
        assert await desk.members() == [("tab-ghost", OWNER, "OWNER", False)]
        # the ghost owner no longer counts: a member cannot join a desktop nobody is at
        async with desk.events(USER, "tab-alan") as events:
            async with desk.tab(await desk.ticket(USER), "tab-alan") as tab:
                assert await tab.closed() == 1008
            assert (await events.next()).type == "vdi:owner_away"


async def test_a_real_server_negotiates_the_guacamole_subprotocol(
    settings: Any, fake_guacd: FakeGuacd, db_engine: Any
) -> None:
    app = create_app(settings)
    async with serve_asgi(app) as base, aiohttp.ClientSession() as http:
        # Hypercorn ran the app's lifespan: build the rig on that app
        desk = await build_desk(SimpleNamespace(app=app, test_client=app.test_client), fake_guacd)
        url = (
            base.replace("http", "ws") + f"/api/ws/vdi/{await desk.ticket(OWNER)}/tab-1/guacamole?"
        )
        async with http.ws_connect(url, protocols=("guacamole",)) as ws:
            assert ws.protocol == "guacamole"
            first = await ws.receive_str(timeout=5)
            assert first.startswith("0.,36.")
            text = ""
            while "4.sync," not in text:
                text += await ws.receive_str(timeout=5)
            await ws.send_str("0.,4.ping,3.123;")
            assert await ws.receive_str(timeout=5) == "0.,4.ping,3.123;"
        url = base.replace("http", "ws") + "/api/ws/vdi/bad-ticket/tab-2/guacamole?"
        async with http.ws_connect(url, protocols=("guacamole",)) as ws:
            message = await ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert (message.data, message.extra) == (1008, "769")  # CLIENT_UNAUTHORIZED
        await desk.settle()


async def test_the_owner_answers_through_the_event_gateway(
    desk: Desk, accounts: StaticAccounts
) -> None:
    await desk.grant_role(OWNER, "STAFF")
    ada = accounts.add(OWNER, first_name="Ada", last_name="Lovelace")
    client = desk.client
    ticket = await client.post("/api/account/clients/tab-ada/auth/token", headers=bearer(ada))
    token = (await ticket.get_json())["data"]["token"]
    async with (
        client.websocket(f"/api/ws/{token}/tab-ada/gateway") as gateway,
        desk.connected(OWNER, "tab-ada"),
        desk.events(SUPPORT, "tab-sam") as sam_events,
        desk.tab(await desk.ticket(SUPPORT), "tab-sam") as sam,
    ):
        while True:
            message = json.loads(await asyncio.wait_for(gateway.receive(), 5))
            if message["type"] == "vdi:access_request":
                break
        request = message["data"]
        await gateway.send(
            json.dumps(
                {
                    "type": "vdi:access_reply",
                    "data": {
                        "sessionId": request["sessionId"],
                        "requesterConnectionId": "tab-sam",
                        "response": "GUEST",
                    },
                }
            )
        )
        assert event_data(await sam_events.expect("vdi:access_granted")) == "GUEST"
        await sam.until("sync")
        assert desk.service.members["tab-sam"].role is InstanceMemberRole.GUEST


async def test_desktops_switched_off(settings: Any, fake_guacd: FakeGuacd, db_engine: Any) -> None:
    app = create_app(settings.model_copy(update={"vdi_enabled": False}))
    async with app.test_app() as test_app:
        desk = await build_desk(test_app, fake_guacd)
        async with desk.tab(await desk.ticket(OWNER), "tab-1") as tab:
            assert await tab.closed() == 1011
    assert fake_guacd.accepted == 0
