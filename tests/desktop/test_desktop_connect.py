"""Opening the desktop socket: tickets, the guacd handshake, relaying, rows, faults."""

from __future__ import annotations

import asyncio

from desktop_rig import GUEST, NOBODY, OWNER, USER, Desk, event_data, guac, opcodes
from sqlalchemy import select

from visa_platform.db.models import Instance, InstanceAuthenticationToken, InstanceExpiration
from visa_platform.db.types import utcnow


async def test_the_owner_opens_a_desktop_and_instructions_flow_both_ways(desk: Desk) -> None:
    tasks_before = len(asyncio.all_tasks())
    async with desk.events(OWNER, "tab-ada") as events, desk.connected(OWNER, "tab-ada") as tab:
        handshake = desk.guacd.handshakes[0]
        assert handshake.selected == "rdp" and not handshake.joined
        assert handshake.client_info["size"] == ["1280", "1024", "96"]
        assert handshake.parameters["hostname"] == "127.0.0.1"
        assert handshake.parameters["username"] == "ada"
        assert handshake.parameters["server-layout"] == "en-gb-qwerty"
        assert handshake.parameters["port"] == "3389"
        assert handshake.parameters["password"] == ""  # not a VISA_PAM image
        users = await events.expect("vdi:users_connected")
        assert event_data(users) == {
            "users": [{"id": OWNER, "fullName": "Ada Lovelace", "role": "OWNER"}],
            "instanceId": desk.instance_id,
        }
        assert await desk.sessions() == [(handshake.connection_id, True)]
        assert await desk.members() == [("tab-ada", OWNER, "OWNER", True)]
        connection = desk.guacd.only_connection()
        # browser -> guacd: input and owner-only instructions go through; pings are echoed
        ping = guac("", "ping", 1700000000000)
        await tab.send(guac("mouse", 10, 20, 1), ping, guac("size", 800, 600))
        await connection.wait_until(lambda c: c.opcodes() == ["mouse", "size"])
        assert ping in await tab.until("")
        # guacd -> browser: whole instructions, large ones included
        blob = "A" * 200_000
        await connection.send(guac("blob", 1, blob), guac("sync", 42))
        text = ""
        while "4.sync,2.42;" not in text:
            text += await tab.receive()
        assert guac("blob", 1, blob) in text
    await desk.settle()
    assert await desk.members() == [("tab-ada", OWNER, "OWNER", False)]
    assert await desk.sessions() == [(handshake.connection_id, False)]  # guacd ends it too
    await desk.guacd.wait_until(lambda g: not g.connections and g.open_sockets == 0)
    assert connection.opcodes()[-1] == "disconnect"
    assert len(asyncio.all_tasks()) <= tasks_before


async def test_bad_tickets_are_refused_with_access_denied(desk: Desk) -> None:
    good = await desk.ticket(OWNER)
    expired = await desk.ticket(OWNER, age=16)
    for token in ("no-such-ticket", expired):
        async with desk.events(OWNER, "tab-1") as events, desk.tab(token, "tab-1") as tab:
            assert await tab.closed() == 1008
            assert (await events.next()).type == "vdi:access_denied"
    async with desk.tab(good, "tab-1") as tab:
        await tab.until("sync")
    async with desk.events(OWNER, "tab-1") as events, desk.tab(good, "tab-1") as tab:
        assert await tab.closed() == 1008  # single use
        assert (await events.next()).type == "vdi:access_denied"
    async with desk.session() as db:  # every ticket row is gone, the expired one included
        assert list(await db.scalars(select(InstanceAuthenticationToken))) == []
    # someone with no relation to the instance: denied
    async with desk.events(NOBODY, "tab-9") as events:
        async with desk.tab(await desk.ticket(NOBODY), "tab-9") as tab:
            assert await tab.closed() == 1008
        assert (await events.next()).type == "vdi:access_denied"
    await desk.settle()
    assert len(desk.guacd.handshakes) == 1


async def test_members_need_the_owner_to_start_the_desktop(desk: Desk) -> None:
    for user in (USER, GUEST):
        async with desk.events(user, "tab-2") as events:
            async with desk.tab(await desk.ticket(user), "tab-2") as tab:
                assert await tab.closed() == 1008
            assert (await events.next()).type == "vdi:owner_away"
    assert desk.guacd.handshakes == []
    assert await desk.sessions() == []


async def test_unreachable_guacd_ends_with_a_dataless_user_disconnected(desk: Desk) -> None:
    desk.guacd.refuse_connections = True
    async with desk.events(OWNER, "tab-1") as events:
        async with desk.tab(await desk.ticket(OWNER), "tab-1") as tab:
            assert await tab.closed() == 1011
        event = await events.next()
        assert (event.type, event.data) == ("vdi:user_disconnected", None)
    await desk.set_instance(ip_address=None)  # no address yet: the same answer
    async with desk.events(OWNER, "tab-1") as events:
        async with desk.tab(await desk.ticket(OWNER), "tab-1") as tab:
            assert await tab.closed() == 1011
        assert (await events.next()).type == "vdi:user_disconnected"
    assert await desk.sessions() == [] and await desk.members() == []


async def test_guacd_dropping_mid_session_closes_the_browser_and_the_rows(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-1") as tab:
        await desk.guacd.only_connection().drop()
        assert await tab.closed() in (1000, 1011)
    await desk.settle()
    assert await desk.members() == [("tab-1", OWNER, "OWNER", False)]
    assert [current for _, current in await desk.sessions()] == [False]


async def test_a_vanished_browser_leaves_no_member_behind(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-1") as tab:
        await tab.ws.disconnect()  # no close frame: the ASGI connection just ends
        await desk.settle()
    assert await desk.members() == [("tab-1", OWNER, "OWNER", False)]
    await desk.guacd.wait_until(lambda g: g.open_sockets == 0)


async def test_malformed_and_oversized_frames_close_the_socket(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-1") as tab:
        await tab.send("5.mouse,x.y;")
        assert await tab.closed() == 1007
    async with desk.connected(OWNER, "tab-1") as tab:
        await tab.send("1." + "x" * 300_000)
        assert await tab.closed() == 1007
    await desk.settle()
    assert [active for *_, active in await desk.members()] == [False, False]


async def test_connecting_cancels_an_inactivity_expiration(desk: Desk) -> None:
    async with desk.session() as db:
        db.add(InstanceExpiration(instance_id=desk.instance_id, expiration_date=utcnow()))
        instance = await db.get(Instance, desk.instance_id)
        assert instance is not None
        instance.expiration_date = utcnow()
        await db.commit()
    async with desk.connected(OWNER, "tab-1"), desk.session() as db:
        assert list(await db.scalars(select(InstanceExpiration))) == []
        instance = await db.get(Instance, desk.instance_id)
        assert instance is not None and instance.expiration_date is None
    assert opcodes(guac("a", 1)) == ["a"]


async def test_a_tab_reconnecting_replaces_its_old_socket(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-1") as old, desk.connected(OWNER, "tab-1"):
        assert await old.closed() == 1000
        await desk.guacd.wait_until(lambda g: g.only_connection().user_count == 1)
        # the old socket's leave must not close the new member's row
        assert await desk.members() == [
            ("tab-1", OWNER, "OWNER", False),
            ("tab-1", OWNER, "OWNER", True),
        ]
        assert [current for _, current in await desk.sessions()] == [True]
    await desk.settle()
    assert [active for *_, active in await desk.members()] == [False, False]
