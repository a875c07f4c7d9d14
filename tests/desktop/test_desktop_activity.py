"""Keep-alives, idle and inactivity disconnects, and activity bookkeeping (spec §1.9-§1.10)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desktop_rig import GUEST, OWNER, Desk, guac
from sqlalchemy import select

from visa_platform.db.models import Instance, InstanceActivity, InstanceSessionMember
from visa_platform.desktop import service as desktop
from visa_platform.domain.enums import InstanceActivityType
from visa_platform.scheduler.clock import ManualClock


async def test_keepalives_and_the_idle_timeout(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desktop, "NOP_INTERVAL", 0.05)
    monkeypatch.setattr(desktop, "IDLE_TIMEOUT", 0.5)
    async with desk.connected(OWNER, "tab-ada") as tab:
        await tab.until("nop")
        await tab.until("nop")
        assert await tab.closed() == 1000  # nothing from the browser for IDLE_TIMEOUT
    await desk.settle()
    assert [active for *_, active in await desk.members()] == [False]


async def activity(desk: Desk) -> list[tuple[str, InstanceActivityType]]:
    async with desk.session() as db:
        rows = await db.execute(
            select(InstanceActivity.user_id, InstanceActivity.activity_type).order_by(
                InstanceActivity.id
            )
        )
        return [(u, t) for u, t in rows]


async def test_activity_is_recorded_at_most_every_15_seconds(desk: Desk) -> None:
    clock = ManualClock()
    desk.service.clock = clock
    start = clock.now()
    async with desk.connected(OWNER, "tab-ada") as tab:
        connection = desk.guacd.only_connection()

        async def step(seconds: float, *instructions: str) -> None:
            clock.advance(seconds)
            await tab.send(*instructions)
            marker = ["sync", str(len(connection.received) + 1000)]
            await tab.send(guac(*marker))  # frames are handled in order: the last one is done
            await connection.wait_until(lambda c: bool(c.received) and c.received[-1][1] == marker)

        await step(0, guac("mouse", 1, 1, 0))
        assert await activity(desk) == [(OWNER, InstanceActivityType.MOUSE)]
        await step(5, guac("key", 65, 1))
        await step(5, guac("mouse", 2, 2, 0))
        assert len(await activity(desk)) == 1  # throttled
        await step(6)  # 16 s after the first write: what piled up is written
        assert await activity(desk) == [
            (OWNER, InstanceActivityType.MOUSE),
            (OWNER, InstanceActivityType.MOUSE_AND_KEYBOARD),
        ]
        async with desk.session() as db:
            instance = await db.get(Instance, desk.instance_id)
            assert instance is not None
            assert instance.last_seen_at == start + timedelta(seconds=16)
            assert instance.last_interaction_at == start + timedelta(seconds=10)
            member = await db.scalar(select(InstanceSessionMember))
            assert member is not None
            assert member.last_interaction_at == start + timedelta(seconds=10)
        await step(20)  # no input since: last_seen_at moves on, no activity row
        assert len(await activity(desk)) == 2
        async with desk.session() as db:
            instance = await db.get(Instance, desk.instance_id)
            assert instance is not None
            assert instance.last_seen_at == start + timedelta(seconds=36)


async def test_guest_input_counts_as_activity_though_dropped(desk: Desk) -> None:
    async with desk.connected(OWNER, "tab-ada"), desk.connected(GUEST, "tab-grace") as grace:
        await grace.send(guac("mouse", 1, 1, 0), guac("sync", 1))
        await grace.send(guac("sync", 2))  # handled after the bookkeeping of the frame before
        connection = desk.guacd.only_connection()
        await connection.wait_until(lambda c: c.opcodes().count("sync") == 2)
        assert "mouse" not in connection.opcodes()
        assert await activity(desk) == [(GUEST, InstanceActivityType.MOUSE)]


async def test_no_input_for_the_inactivity_time_disconnects(desk: Desk) -> None:
    clock = ManualClock()
    desk.service.clock = clock
    async with desk.connected(OWNER, "tab-ada") as tab:
        clock.advance(359 * 60)
        await tab.send(guac("sync", 1))  # frames without input keep the socket, not the session
        await desk.guacd.only_connection().wait_until(lambda c: "sync" in c.opcodes())
        clock.advance(60)
        await tab.send(guac("sync", 2))
        assert await tab.closed() == 1000
    await desk.settle()
    assert [active for *_, active in await desk.members()] == [False]


async def test_a_protocol_without_keepalive_gets_none(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desktop, "NOP_INTERVAL", 0.05)
    monkeypatch.setattr(desktop, "IDLE_TIMEOUT", 0.5)
    monkeypatch.setattr(desk.service.protocol("guacamole"), "keepalive", None)
    async with desk.connected(OWNER, "tab-ada") as tab:
        seen = len(tab.received)
        assert await tab.closed() == 1000
        assert tab.received[seen:] == []  # nothing between the display and the idle close
