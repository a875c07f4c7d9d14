"""Session rules (spec §1.4-§1.11): members join, input filtering, owner leaving, lock/unlock."""

from __future__ import annotations

import pytest
from desktop_rig import GUEST, NOBODY, OWNER, SUPPORT, USER, Desk, event_data, guac

from visa_platform.domain.enums import InstanceMemberRole

ADA = {"id": OWNER, "fullName": "Ada Lovelace", "role": "OWNER"}
ALAN = {"id": USER, "fullName": "Alan Turing", "role": "USER"}
GRACE = {"id": GUEST, "fullName": "Grace Hopper", "role": "GUEST"}


async def test_members_join_the_owners_desktop_and_everyone_hears_of_it(desk: Desk) -> None:
    async with (
        desk.events(OWNER, "tab-ada") as ada_events,
        desk.events(USER, "tab-alan") as alan_events,
        desk.connected(OWNER, "tab-ada"),
    ):
        await ada_events.expect("vdi:users_connected")
        async with desk.connected(USER, "tab-alan"):
            joined = desk.guacd.handshakes[1]
            assert joined.joined and joined.selected == desk.guacd.handshakes[0].connection_id
            connected = await ada_events.expect("vdi:user_connected")
            assert event_data(connected) == {"user": ALAN, "instanceId": desk.instance_id}
            users = event_data(await ada_events.expect("vdi:users_connected"))
            assert users["users"] == [ADA, ALAN]
            assert event_data(await alan_events.expect("vdi:users_connected"))["users"] == [
                ADA,
                ALAN,
            ]
            assert "vdi:user_connected" not in alan_events.drain()  # not told about itself
            assert len(await desk.sessions()) == 1
        gone = await ada_events.expect("vdi:user_disconnected")
        assert event_data(gone) == {"user": ALAN, "instanceId": desk.instance_id}
        assert event_data(await ada_events.expect("vdi:users_connected"))["users"] == [ADA]
    await desk.settle()
    assert await desk.members() == [
        ("tab-ada", OWNER, "OWNER", False),
        ("tab-alan", USER, "USER", False),
    ]


async def test_input_from_guests_and_owner_only_instructions_are_dropped(desk: Desk) -> None:
    async with (
        desk.connected(OWNER, "tab-ada"),
        desk.connected(GUEST, "tab-grace") as grace,
        desk.connected(USER, "tab-alan") as alan,
    ):
        connection = desk.guacd.only_connection()
        await grace.send(guac("mouse", 1, 1, 0), guac("key", 65, 1), guac("size", 10, 10))
        await grace.send(guac("sync", 1))  # not input: forwarded
        await connection.wait_until(lambda c: len(c.received) == 1)
        await alan.send(guac("size", 20, 20))  # owner only: dropped
        await alan.send(guac("mouse", 2, 2, 0), guac("key", 66, 1))
        await connection.wait_until(lambda c: len(c.received) >= 3)
        assert [(e[0], e[1]) for _, e in connection.received] == [
            ("sync", "1"),
            ("mouse", "2"),
            ("key", "66"),
        ]


async def test_disconnect_all_puts_everyone_out_when_the_owner_leaves(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-ada") as ada, desk.events(USER, "tab-alan") as events:
        async with desk.connected(USER, "tab-alan") as alan:
            await ada.ws.disconnect()
            assert await alan.closed() == 1000
        revoked = await events.expect("vdi:access_revoked")
        assert revoked.audience.client_ids == {"tab-alan"}
    await desk.settle()
    assert [active for *_, active in await desk.members()] == [False, False]
    assert [current for _, current in await desk.sessions()] == [False]


@pytest.mark.parametrize("policy", ["LOCK_ROOM"])
async def test_lock_room_makes_users_read_only_until_the_owner_returns(desk: Desk) -> None:
    async with (
        desk.events(USER, "tab-alan") as events,
        desk.connected(OWNER, "tab-ada") as ada,
        desk.connected(USER, "tab-alan") as alan,
    ):
        await ada.ws.disconnect()
        await events.expect("vdi:session_locked")
        users = event_data(await events.expect("vdi:users_connected"))
        assert users["users"] == [{**ALAN, "role": "GUEST"}]  # shown read-only
        connection = desk.guacd.only_connection()
        await alan.send(guac("mouse", 5, 5, 0), guac("sync", 7))
        await connection.wait_until(lambda c: "sync" in c.opcodes())
        assert "mouse" not in connection.opcodes()  # dropped while locked
        async with desk.connected(OWNER, "tab-ada-2"):
            await events.expect("vdi:session_unlocked")
            await alan.send(guac("mouse", 6, 6, 0))
            await connection.wait_until(lambda c: "mouse" in c.opcodes())
    await desk.settle()
    assert all(not active for *_, active in await desk.members())


async def test_the_owner_revokes_a_user(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-ada"), desk.events(USER, "tab-alan") as events:
        async with desk.connected(USER, "tab-alan") as alan:
            await desk.service.on_access_revoked(USER, "tab-alan", {"userId": OWNER})
            await desk.service.on_access_revoked(OWNER, "tab-ada", {"userId": USER})
            assert await alan.closed() == 1000
        assert (await events.expect("vdi:access_revoked")).audience.user_ids == {USER}
    await desk.settle()
    assert [(c, a) for c, _, _, a in await desk.members()] == [
        ("tab-ada", False),
        ("tab-alan", False),
    ]


async def test_support_waits_for_the_owner_and_gets_the_role_granted(desk: Desk) -> None:
    await desk.grant_role(OWNER, "STAFF")  # support may not connect alone to a staff desktop
    async with (
        desk.events(OWNER, "tab-ada") as ada_events,
        desk.connected(OWNER, "tab-ada"),
        desk.events(SUPPORT, "tab-sam") as sam_events,
        desk.tab(await desk.ticket(SUPPORT), "tab-sam") as sam,
    ):
        await sam_events.expect("vdi:access_pending")
        request = event_data(await ada_events.expect("vdi:access_request"))
        assert request["user"] == {
            "id": SUPPORT,
            "fullName": "Sam Support",
            "role": "SUPPORT",
        }
        assert request["requesterConnectionId"] == "tab-sam"
        # only an owner's tab is heard
        await desk.service.on_access_reply(SUPPORT, "tab-sam", {**request, "response": "SUPPORT"})
        assert "tab-sam" in desk.service.candidates
        await desk.service.on_access_reply(
            OWNER,
            "tab-ada",
            {
                "sessionId": request["sessionId"],
                "requesterConnectionId": "tab-sam",
                "response": "SUPPORT",
            },
        )
        granted = await sam_events.expect("vdi:access_granted")
        assert granted.data == "USER"  # the owner is staff: USER, not SUPPORT
        reply = event_data(await ada_events.expect("vdi:access_reply"))
        assert reply["requesterConnectionId"] == "tab-sam"
        assert (await sam.receive()).startswith("0.,36.")
        await sam.until("sync")
        assert ("tab-sam", SUPPORT, "USER", True) in await desk.members()
    await desk.settle()


async def test_support_refused_or_giving_up(desk: Desk) -> None:
    await desk.grant_role(OWNER, "STAFF")
    async with (
        desk.events(OWNER, "tab-ada") as ada_events,
        desk.connected(OWNER, "tab-ada"),
        desk.events(SUPPORT, "tab-sam") as sam_events,
    ):
        async with desk.tab(await desk.ticket(SUPPORT), "tab-sam") as sam:
            request = event_data(await ada_events.expect("vdi:access_request"))
            await desk.service.on_access_reply(OWNER, "tab-ada", {**request, "response": "NO WAY"})
            assert await sam.closed() == 1008
        await sam_events.expect("vdi:access_denied")
        async with desk.tab(await desk.ticket(SUPPORT), "tab-sam") as sam:
            await ada_events.expect("vdi:access_request")
            await sam.ws.disconnect()
            cancel = event_data(await ada_events.expect("vdi:access_cancel"))
            assert cancel == {"userFullName": "Sam Support", "requesterConnectionId": "tab-sam"}
    await desk.settle()
    assert [u for _, u, _, _ in await desk.members()] == [OWNER]


async def test_support_requests_end_when_the_owner_leaves(desk: Desk) -> None:
    await desk.grant_role(OWNER, "STAFF")
    async with desk.events(SUPPORT, "tab-sam") as sam_events:
        async with (
            desk.connected(OWNER, "tab-ada") as ada,
            desk.tab(await desk.ticket(SUPPORT), "tab-sam") as sam,
        ):
            await sam_events.expect("vdi:access_pending")
            await ada.ws.disconnect()
            assert await sam.closed() == 1008
        await sam_events.expect("vdi:owner_away")
        async with desk.tab(await desk.ticket(SUPPORT), "tab-sam") as sam:  # nobody to ask
            assert await sam.closed() == 1008
        await sam_events.expect("vdi:owner_away")
    await desk.settle()


async def test_support_of_a_non_staff_owner_connects_without_asking(desk: Desk) -> None:
    async with desk.events(SUPPORT, "tab-sam") as events, desk.connected(SUPPORT, "tab-sam"):
        await events.expect("vdi:users_connected")  # it even starts the desktop itself
        assert await desk.members() == [("tab-sam", SUPPORT, "SUPPORT", True)]


async def test_public_link_users_need_the_owner(desk: Desk) -> None:
    await desk.set_instance(
        public_access_token="pub-123", public_access_role=InstanceMemberRole.GUEST
    )
    async with desk.events(NOBODY, "tab-nora") as events:
        async with desk.tab(await desk.ticket(NOBODY, public="pub-123"), "tab-nora") as tab:
            assert await tab.closed() == 1008
        await events.expect("vdi:owner_away")
        async with desk.connected(OWNER, "tab-ada"):
            async with desk.tab(await desk.ticket(NOBODY, public="wrong"), "tab-nora") as tab:
                assert await tab.closed() == 1008
            await events.expect("vdi:access_denied")
            async with desk.tab(await desk.ticket(NOBODY, public="pub-123"), "tab-nora") as tab:
                await tab.until("sync")
                assert ("tab-nora", NOBODY, "GUEST", True) in await desk.members()
    await desk.settle()
