"""The event gateway websocket: one-time tokens, routing, ping/pong and idle rules."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart.testing.connections import WebsocketDisconnectError

from visa_platform.api.ws import gateway
from visa_platform.events.broker import EVERYONE, Event, to_role, to_users
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer


async def ticket(client: Any, token: str, client_id: str) -> str:
    response = await client.post(
        f"/api/account/clients/{client_id}/auth/token", headers=bearer(token)
    )
    assert response.status_code == 201
    return str((await response.get_json())["data"]["token"])


async def receive(ws: Any, wait: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.receive(), wait)))


async def test_events_reach_the_right_clients(
    app: Any, client: Any, accounts: StaticAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "PING_DELAY", 30.0)
    ada = accounts.add("1001")
    broker = runtime(app.app).broker
    async with (
        client.websocket(f"/api/ws/{await ticket(client, ada, 'tab-1')}/tab-1/gateway") as ws,
        client.websocket(
            f"/api/ws/{await ticket(client, accounts.admin_token, 'tab-9')}/tab-9/gateway"
        ) as admin_ws,
    ):
        for _ in range(50):  # both subscriptions are registered
            if broker.subscriber_count == 2:
                break
            await asyncio.sleep(0.02)
        await broker.publish(Event("user:instances_changed", to_users("someone-else")))
        await broker.publish(Event("admin:instance_errors_changed", to_role("ADMIN")))
        await broker.publish(Event("user:instances_changed", to_users("1001")))
        await broker.publish(Event("global:notifications_changed", EVERYONE))
        assert await receive(ws) == {"type": "user:instances_changed"}
        assert await receive(ws) == {"type": "global:notifications_changed"}
        assert await receive(admin_ws) == {"type": "admin:instance_errors_changed"}
        assert await receive(admin_ws) == {"type": "global:notifications_changed"}
    for _ in range(50):
        if broker.subscriber_count == 0:
            break
        await asyncio.sleep(0.02)
    assert broker.subscriber_count == 0


async def test_ping_pong_keeps_the_socket_and_idleness_closes_it(
    client: Any, accounts: StaticAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "PING_DELAY", 0.05)
    monkeypatch.setattr(gateway, "IDLE_TIMEOUT", 0.6)
    ada = accounts.add("1001")
    async with client.websocket(
        f"/api/ws/{await ticket(client, ada, 'tab-1')}/tab-1/gateway"
    ) as ws:
        for _ in range(3):  # a ping after connecting, and again after each pong
            assert await receive(ws) == {"type": "ping"}
            await ws.send(json.dumps({"type": "pong"}))
        await ws.send("not json at all")  # ignored, but it counts as activity
        assert await receive(ws) == {"type": "ping"}
        with pytest.raises(WebsocketDisconnectError):  # no pong: closed after the idle time
            await asyncio.wait_for(ws.receive(), 5)


async def test_tokens_are_single_use_and_bound_to_their_client(
    client: Any, accounts: StaticAccounts
) -> None:
    ada = accounts.add("1001")
    token = await ticket(client, ada, "tab-1")
    with pytest.raises(WebsocketDisconnectError):
        async with client.websocket(f"/api/ws/{token}/another-tab/gateway") as ws:
            await asyncio.wait_for(ws.receive(), 5)
    with pytest.raises(WebsocketDisconnectError):  # consumed by the failed attempt
        async with client.websocket(f"/api/ws/{token}/tab-1/gateway") as ws:
            await asyncio.wait_for(ws.receive(), 5)


async def test_instance_changes_are_pushed_to_the_owner(
    app: Any, client: Any, accounts: StaticAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The REST API publishes through the same broker (create, actions, updates, deletes)."""
    from visa_platform.db.models import Instance, InstanceMember, User
    from visa_platform.domain.enums import InstanceMemberRole, InstanceState

    monkeypatch.setattr(gateway, "PING_DELAY", 30.0)
    ada = accounts.add("1001")
    state = runtime(app.app)
    async with state.session() as session:
        session.add(User(id="1001", first_name="Ada", last_name="Lovelace"))
        instance = Instance(
            uid="abcd1234",
            name="vm",
            state=InstanceState.STOPPED,
            screen_width=1,
            screen_height=1,
            keyboard_layout="en-gb-qwerty",
        )
        session.add(instance)
        await session.flush()
        session.add(
            InstanceMember(instance_id=instance.id, user_id="1001", role=InstanceMemberRole.OWNER)
        )
        await session.commit()
    async with client.websocket(
        f"/api/ws/{await ticket(client, ada, 'tab-1')}/tab-1/gateway"
    ) as ws:
        for _ in range(50):
            if state.broker.subscriber_count == 1:
                break
            await asyncio.sleep(0.02)
        response = await client.post(
            "/api/account/instances/abcd1234/actions/start", headers=bearer(ada)
        )
        assert response.status_code == 200
        event = await receive(ws)
        assert event["type"] == "user:instance_state_changed"
        assert event["data"]["instanceUid"] == "abcd1234"
        assert event["data"]["state"] == "STARTING"
