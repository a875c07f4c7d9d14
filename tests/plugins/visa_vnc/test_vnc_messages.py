"""Splitting the browser's RFB stream into whole client messages."""

from __future__ import annotations

import pytest

from visa_platform.desktop.protocol import BadClientFrame, InstructionKind
from visa_vnc.messages import ClientStream, Phase, RfbStreamError
from visa_vnc.protocol import VncClientReader

HANDSHAKE = b"RFB 003.008\n" + b"\x01" + b"\x01"
KEY = b"\x04\x01\x00\x00\x00\x00\x00\x61"
POINTER = b"\x05\x00\x00\x10\x00\x20"
ENCODINGS = b"\x02\x00\x00\x02" + b"\x00\x00\x00\x00" + b"\xff\xff\xff\x21"
UPDATE = b"\x03\x00" + b"\x00" * 8
CUT = b"\x06\x00\x00\x00\x00\x00\x00\x05hello"


def test_handshake_then_messages_in_any_chunking() -> None:
    stream = b"".join([HANDSHAKE, ENCODINGS, UPDATE, KEY, POINTER, CUT])
    for size in (1, 3, 7, len(stream)):
        reader = ClientStream(1024)
        parts = []
        for start in range(0, len(stream), size):
            parts += reader.feed(stream[start : start + size])
        assert [kind for kind, _ in parts] == [
            Phase.VERSION,
            Phase.SECURITY,
            Phase.CLIENT_INIT,
            2,
            3,
            4,
            5,
            6,
        ]
        assert b"".join(data for _, data in parts) == stream


def test_extended_clipboard_messages_have_a_negative_length() -> None:
    """noVNC announces Extended Clipboard caps with length -8: 8 bytes follow, not 4 GiB."""
    reader = ClientStream(1024)
    reader.feed(HANDSHAKE)
    caps = b"\x06\x00\x00\x00" + (-8).to_bytes(4, "big", signed=True) + b"\x1f\x00\x00\x01\0\0\0\0"
    assert [kind for kind, _ in reader.feed(caps + POINTER)] == [6, 5]


def test_unknown_or_oversized_messages_are_refused() -> None:
    reader = ClientStream(64)
    reader.feed(HANDSHAKE)
    with pytest.raises(RfbStreamError, match="unknown client message type 99"):
        reader.feed(b"\x63")
    reader = ClientStream(64)
    reader.feed(HANDSHAKE)
    with pytest.raises(RfbStreamError, match="too large"):
        reader.feed(b"\x06\x00\x00\x00\x00\x00\x10\x00")  # refused from its header
    with pytest.raises(RfbStreamError, match="not an RFB client"):
        ClientStream(64).feed(b"GET / HTTP/1.1\r\n")


def test_the_reader_classifies_input_and_refuses_what_was_not_offered() -> None:
    reader = VncClientReader()
    kinds = [i.kind for i in reader.feed(HANDSHAKE + KEY + POINTER + UPDATE)]
    assert kinds == [InstructionKind.OTHER] * 3 + [
        InstructionKind.KEYBOARD,
        InstructionKind.MOUSE,
        InstructionKind.OTHER,
    ]
    resize = b"\xfb\x00\x04\x00\x03\x00\x01\x00" + b"\x00" * 16
    assert [i.kind for i in reader.feed(resize)] == [InstructionKind.OWNER_ONLY]
    with pytest.raises(BadClientFrame, match="binary"):
        reader.feed("text")
    with pytest.raises(BadClientFrame, match=r"3\.8 only"):
        VncClientReader().feed(b"RFB 003.003\n")
    with pytest.raises(BadClientFrame, match="security type 2"):
        VncClientReader().feed(b"RFB 003.008\n\x02")


async def test_a_vnc_server_that_never_answers_is_a_connect_error_in_time() -> None:
    import asyncio
    import time

    from visa_platform.config import load_settings
    from visa_platform.desktop.protocol import DesktopConnectError, DesktopTarget
    from visa_vnc.protocol import VncProtocol

    handled = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, never sends the RFB version
        writer.close()
        await writer.wait_closed()
        handled.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = DesktopTarget(
        instance_id=1,
        host="127.0.0.1",
        port=port,
        username=None,
        password=None,
        screen_width=800,
        screen_height=600,
        keyboard_layout="en-gb-qwerty",
    )
    started = time.monotonic()
    try:
        with pytest.raises(DesktopConnectError, match=r"no answer within 0\.5 s"):
            await VncProtocol(load_settings(environ={}), timeout=0.5).open(target)
        await asyncio.wait_for(handled.wait(), 5)  # the relay hung up
    finally:
        server.close()
        await server.wait_closed()
    assert time.monotonic() - started < 3
