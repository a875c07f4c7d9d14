"""The asyncio guacd client against the fake guacd: handshake, join, faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from visa_guacamole import guacd
from visa_guacamole.protocol import ClientReader, GuacamoleProtocol
from visa_guacamole.wire import encode, parse, split
from visa_platform.config import load_settings
from visa_platform.desktop.protocol import (
    BadClientFrame,
    CloseWhy,
    DesktopConnectError,
    DesktopTarget,
    InstructionKind,
)
from visa_platform.testing.fake_guacd import FakeGuacd


def target(guacd_server: FakeGuacd, **changes: Any) -> DesktopTarget:
    values: dict[str, Any] = {
        "instance_id": 1,
        "host": guacd_server.host,
        "port": guacd_server.port,
        "username": "ada",
        "password": None,
        "screen_width": 1280,
        "screen_height": 1024,
        "keyboard_layout": "fr-fr-azerty",
    }
    values.update(changes)
    return DesktopTarget(**values)


@pytest.fixture
def protocol(tmp_path: Path) -> GuacamoleProtocol:
    settings = load_settings(data_dir=tmp_path, vdi_guacd_parameter_color_depth=24)
    return GuacamoleProtocol(settings, timeout=2)


async def receive_all(connection: guacd.GuacdConnection, until: str) -> list[list[str]]:
    out: list[list[str]] = []
    while not out or out[-1][0] != until:
        text = await connection.receive()
        assert text is not None
        out += [parse(i) for i in split(text)]
    return out


async def test_new_session_handshake_parameters(
    fake_guacd: FakeGuacd, protocol: GuacamoleProtocol
) -> None:
    connection = await protocol.open(target(fake_guacd, password="ada,1;c2ln"))
    try:
        handshake = fake_guacd.handshakes[0]
        assert handshake.selected == "rdp"  # VISA_VDI_GUACD_PARAMETER_PROTOCOL
        assert handshake.version == "VERSION_1_5_0"
        assert handshake.client_info == {
            "size": ["1280", "1024", "96"],
            "audio": [],
            "video": [],
            "image": ["image/png"],
        }
        assert handshake.parameters == {
            "hostname": "127.0.0.1",
            "port": "3389",
            "username": "ada",
            "password": "ada,1;c2ln",
            "server-layout": "fr-fr-azerty",
            "ignore-cert": "true",
            "color-depth": "24",
            "read-only": "",
        }
        assert connection.connection_id == handshake.connection_id
        instructions = await receive_all(connection, "sync")
        assert instructions[0][0] == "" and len(instructions[0][1]) == 36  # tunnel uuid first
        assert [i[0] for i in instructions[1:3]] == ["name", "size"]
        await connection.send(encode("mouse", 5, 6, 1))
        server = fake_guacd.only_connection()
        await server.wait_until(lambda c: c.opcodes() == ["mouse"])
    finally:
        await connection.close()
    await fake_guacd.wait_until(lambda g: not g.connections)  # 'disconnect' ended it
    await connection.close()  # twice is harmless


async def test_secondary_protocol_and_join(
    fake_guacd: FakeGuacd, protocol: GuacamoleProtocol
) -> None:
    first = await protocol.open(target(fake_guacd, secondary_protocol="VNC"))
    assert fake_guacd.handshakes[0].selected == "vnc"
    second = await protocol.open(target(fake_guacd, connection_id=first.connection_id))
    try:
        joined = fake_guacd.handshakes[1]
        assert joined.joined and joined.selected == first.connection_id
        assert second.connection_id == first.connection_id
        # joining sends the hostname only; every other value is empty
        assert {k: v for k, v in joined.parameters.items() if v} == {"hostname": "127.0.0.1"}
        assert fake_guacd.connection(first.connection_id).user_count == 2
    finally:
        await first.close()
        await second.close()


async def test_version_answer_is_the_older_of_both() -> None:
    assert guacd._version_answer("VERSION_1_6_0") == "VERSION_1_5_0"
    assert guacd._version_answer("VERSION_1_3_0") == "VERSION_1_3_0"
    assert guacd._version_answer("VERSION_x") == "VERSION_1_5_0"


async def test_faults_are_connect_errors(
    fake_guacd: FakeGuacd, protocol: GuacamoleProtocol
) -> None:
    with pytest.raises(DesktopConnectError, match="before 'args'"):
        await protocol.open(target(fake_guacd, connection_id="$gone"))
    fake_guacd.upstream_unreachable = True
    connection = await protocol.open(target(fake_guacd))  # ready, then the error streams
    text = ""
    while (got := await connection.receive()) is not None:
        text += got
    assert encode("error", "Aborted. See logs.", 519) in text
    await connection.close()
    fake_guacd.upstream_unreachable = False
    fake_guacd.handshake_delay = 1.0
    slow = GuacamoleProtocol(protocol.settings, timeout=0.2)
    with pytest.raises(DesktopConnectError):
        await slow.open(target(fake_guacd))
    port = fake_guacd.port
    await fake_guacd.stop()
    with pytest.raises(DesktopConnectError, match="unreachable"):
        await protocol.open(target(fake_guacd, port=port))


def test_client_reader_classifies_and_echoes_pings() -> None:
    reader = ClientReader()
    ping = encode("", "ping", 1700000000000)
    frame = encode("mouse", 1, 2, 0) + encode("key", 65, 1) + encode("size", 800, 600)
    got = reader.feed(frame + ping + encode("sync", 5)[:4])
    assert [i.kind for i in got] == [
        InstructionKind.MOUSE,
        InstructionKind.KEYBOARD,
        InstructionKind.OWNER_ONLY,
        InstructionKind.INTERNAL,
    ]
    assert got[3].reply == ping and got[0].reply is None
    rest = reader.feed(encode("sync", 5)[4:])  # the end of the split instruction
    assert [(i.data, i.kind) for i in rest] == [(encode("sync", 5), InstructionKind.OTHER)]
    with pytest.raises(BadClientFrame):
        ClientReader().feed("5.mouse;;;")
    with pytest.raises(BadClientFrame):
        ClientReader().feed("70000." + "x" * 65540)
    with pytest.raises(BadClientFrame):
        ClientReader().feed(b"\xff\xfe")


def test_close_reasons_are_guacamole_status_codes(protocol: GuacamoleProtocol) -> None:
    assert protocol.close_reason(CloseWhy.DENIED) == "769"
    assert protocol.close_reason(CloseWhy.UNREACHABLE) == "520"
    assert all(protocol.close_reason(why) is not None for why in CloseWhy)
