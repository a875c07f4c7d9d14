"""Two replicas behind a load balancer: a browser's sockets may be on either (spec §1.8-§1.11,
§5). Each replica holds only its own sockets; Redis carries the rest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from desktop_rig import OWNER, SUPPORT, USER, guac
from replica_rig import Cluster, two_replicas

from visa_platform.db.types import utcnow
from visa_platform.plugin.types import InstanceEvent
from visa_platform.runtime import runtime
from visa_platform.testing.fake_guacd import FakeGuacd
from visa_platform.testing.redis_server import needs_redis
from visa_platform.testing.waits import eventually

pytestmark = needs_redis()


@pytest.fixture
async def cluster(settings: Any, fake_guacd: FakeGuacd, db_engine: Any) -> AsyncIterator[Cluster]:
    async with two_replicas(settings, fake_guacd) as made:
        yield made


def names(users_connected: Any) -> list[tuple[str, str]]:
    return sorted((u["id"], u["role"]) for u in users_connected["users"])


async def test_the_owner_on_one_replica_answers_a_support_user_on_the_other(
    cluster: Cluster,
) -> None:
    a, b = cluster.a, cluster.b
    await cluster.desk.grant_role(OWNER, "STAFF")  # support must ask a staff owner
    # each browser's gateway socket is on the other replica than its desktop socket
    ada_events = await cluster.gateway(b, OWNER, "tab-ada")
    sam_events = await cluster.gateway(a, SUPPORT, "tab-sam")
    await cluster.connected(a, OWNER, "tab-ada")
    sam = await cluster.screen(b, SUPPORT, "tab-sam")
    await sam_events.expect("vdi:access_pending")
    request = await ada_events.expect("vdi:access_request")
    assert request["requesterConnectionId"] == "tab-sam"
    assert request["user"] == {"id": SUPPORT, "fullName": "Sam Support", "role": "SUPPORT"}
    assert "tab-sam" in b.service.candidates and "tab-ada" in a.service.members
    # a reply from a tab that is not an owner's desktop is ignored, wherever it lands
    await sam_events.send(
        "vdi:access_reply",
        {**request, "requesterConnectionId": "tab-sam", "response": "SUPPORT"},
    )
    await ada_events.send(
        "vdi:access_reply",
        {
            "sessionId": request["sessionId"],
            "requesterConnectionId": "tab-sam",
            "response": "GUEST",
        },
    )
    assert await sam_events.expect("vdi:access_granted") == "GUEST"
    reply = await ada_events.expect("vdi:access_reply")
    assert (reply["requesterConnectionId"], reply["response"]) == ("tab-sam", "GUEST")
    await sam.until("sync")
    assert b.service.members["tab-sam"].role.value == "GUEST"
    # who is there: members of both replicas, to the tabs of both
    want = [(OWNER, "OWNER"), (SUPPORT, "GUEST")]
    while names(await ada_events.expect("vdi:users_connected")) != want:
        pass
    while names(await sam_events.expect("vdi:users_connected")) != want:
        pass
    assert {e["type"] for e in sam_events.seen} >= {"vdi:access_pending", "vdi:access_granted"}


async def test_a_refused_or_cancelled_request_across_replicas(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    await cluster.desk.grant_role(OWNER, "STAFF")
    ada_events = await cluster.gateway(a, OWNER, "tab-ada")
    sam_events = await cluster.gateway(b, SUPPORT, "tab-sam")
    await cluster.connected(a, OWNER, "tab-ada")
    sam = await cluster.screen(b, SUPPORT, "tab-sam")
    request = await ada_events.expect("vdi:access_request")
    await ada_events.send("vdi:access_reply", {**request, "response": "NO WAY"})
    await sam_events.expect("vdi:access_denied")
    assert await sam.closed() == 1008
    sam = await cluster.screen(b, SUPPORT, "tab-sam-2")
    await ada_events.expect("vdi:access_request")
    await sam.ws.close()
    cancel = await ada_events.expect("vdi:access_cancel")
    assert cancel == {"userFullName": "Sam Support", "requesterConnectionId": "tab-sam-2"}
    await eventually(lambda: not b.service.candidates)
    assert [(u, active) for _, u, _, active in await cluster.desk.members()] == [(OWNER, True)]


async def test_revoking_from_one_replica_puts_the_user_out_on_the_other(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    ada_events = await cluster.gateway(b, OWNER, "tab-ada")
    alan_events = await cluster.gateway(a, USER, "tab-alan")
    await cluster.connected(a, OWNER, "tab-ada")
    alan = await cluster.connected(b, USER, "tab-alan")
    while names(await ada_events.expect("vdi:users_connected")) != [
        (OWNER, "OWNER"),
        (USER, "USER"),
    ]:
        pass
    # only an owner's desktop tab may revoke: Alan's own tab is ignored
    await alan_events.send("vdi:access_revoked", {"userId": OWNER})
    await ada_events.send("vdi:access_revoked", {"userId": USER})
    await alan_events.expect("vdi:access_revoked")
    assert await alan.closed() == 1000
    await ada_events.expect("vdi:user_disconnected")
    assert "tab-ada" in a.service.members
    rows = [(u, active) for _, u, _, active in await cluster.desk.members()]
    assert rows == [(OWNER, True), (USER, False)]


@pytest.mark.parametrize("policy", ["LOCK_ROOM"])
async def test_the_owner_leaving_one_replica_locks_the_room_on_the_other(
    cluster: Cluster, fake_guacd: FakeGuacd
) -> None:
    a, b = cluster.a, cluster.b
    alan_events = await cluster.gateway(a, USER, "tab-alan")
    ada = await cluster.connected(a, OWNER, "tab-ada")
    alan = await cluster.connected(b, USER, "tab-alan")
    live = b.service.members["tab-alan"].session
    assert not live.locked
    await ada.ws.close()
    await alan_events.expect("vdi:session_locked")
    assert live.locked
    shown = await alan_events.expect("vdi:users_connected")
    assert names(shown) == [(USER, "GUEST")]  # while locked, users are shown as guests
    # Alan's input is dropped while locked (on b, where his relay is)
    connection = fake_guacd.only_connection()
    await alan.ws.send_str(guac("mouse", 5, 5, 0) + guac("sync", 7))
    await connection.wait_until(lambda c: "sync" in c.opcodes())
    assert "mouse" not in connection.opcodes()
    # the owner comes back on the other replica: unlocked for Alan
    await cluster.connected(b, OWNER, "tab-ada-2")
    await alan_events.expect("vdi:session_unlocked")
    assert not live.locked
    await alan.ws.send_str(guac("mouse", 6, 6, 0))
    await connection.wait_until(lambda c: "mouse" in c.opcodes())


@pytest.mark.parametrize("policy", ["DISCONNECT_ALL"])
async def test_the_owner_leaving_one_replica_closes_the_room_on_the_other(
    cluster: Cluster,
) -> None:
    a, b = cluster.a, cluster.b
    alan_events = await cluster.gateway(a, USER, "tab-alan")
    ada = await cluster.connected(a, OWNER, "tab-ada")
    alan = await cluster.connected(b, USER, "tab-alan")
    await ada.ws.close()
    await alan_events.expect("vdi:access_revoked")
    assert await alan.closed() == 1000
    await cluster.settle()
    assert [active for *_, active in await cluster.desk.members()] == [False, False]


async def test_two_replicas_opening_the_same_desktop_at_once_share_one_session(
    cluster: Cluster, fake_guacd: FakeGuacd
) -> None:
    fake_guacd.handshake_delay = 0.3  # a slow guacd: both would find no session to join
    await asyncio.gather(
        cluster.connected(cluster.a, OWNER, "tab-ada-a"),
        cluster.connected(cluster.b, OWNER, "tab-ada-b"),
    )
    assert [current for _, current in await cluster.desk.sessions()] == [True]
    assert len(fake_guacd.connections) == 1
    rows = await cluster.desk.members()
    assert len({client for client, *_ in rows}) == 2 and all(active for *_, active in rows)


async def test_an_instance_going_down_ends_its_clients_on_every_replica(cluster: Cluster) -> None:
    ada = await cluster.connected(cluster.b, OWNER, "tab-ada")
    alan = await cluster.connected(cluster.b, USER, "tab-alan")
    desk = cluster.desk
    event = InstanceEvent(
        instance_id=desk.instance_id,
        uid=desk.instance_uid,
        name="my desktop",
        state="STOPPING",
        owner_id=OWNER,
        plan_id=None,
        compute_id=None,
        occurred_at=utcnow(),
    )
    # the lifecycle engine runs on replica a, the desktop's clients are on b
    await runtime(cluster.a.app).plugins.instance_state_changed(event, "ACTIVE")
    assert await alan.closed() == 1000
    assert await ada.closed() == 1000
    await cluster.settle()
    assert [active for *_, active in await desk.members()] == [False, False]
