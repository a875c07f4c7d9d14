"""Splitting the browser's RFB stream into whole client messages (RFC 6143 §7.5).

After the handshake every client-to-server message starts with its type byte and has a length
known from its header, so the relay can tell key and pointer events (input it may drop) from the
rest without understanding pixels.
"""

from __future__ import annotations

import enum

SET_PIXEL_FORMAT, SET_ENCODINGS, FRAMEBUFFER_UPDATE_REQUEST = 0, 2, 3
KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT = 4, 5, 6
#: RFB extensions noVNC may send once the server announced them (pseudo-encodings).
QEMU_CLIENT_MESSAGE, ENABLE_CONTINUOUS_UPDATES, CLIENT_FENCE, SET_DESKTOP_SIZE = 255, 150, 248, 251

FIXED = {
    SET_PIXEL_FORMAT: 20,
    FRAMEBUFFER_UPDATE_REQUEST: 10,
    KEY_EVENT: 8,
    POINTER_EVENT: 6,
    ENABLE_CONTINUOUS_UPDATES: 10,
}


class Phase(enum.Enum):
    VERSION = "VERSION"  # 12 bytes "RFB 003.00x\n"
    SECURITY = "SECURITY"  # 1 byte: the security type chosen
    CLIENT_INIT = "CLIENT_INIT"  # 1 byte: shared flag
    MESSAGES = "MESSAGES"


class RfbStreamError(ValueError):
    """Bytes that are not RFB client messages (or a message over the size limit)."""


class ClientStream:
    """Feed bytes, get ``(phase or message type, whole message bytes)`` in order."""

    def __init__(self, max_message: int) -> None:
        self.phase = Phase.VERSION
        self.max_message = max_message
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[Phase | int, bytes]]:
        self._buffer += data
        out: list[tuple[Phase | int, bytes]] = []
        while True:
            length = self._length()
            if length is not None and length > self.max_message:
                raise RfbStreamError(f"client message too large ({length} bytes)")
            if length is None or len(self._buffer) < length:
                return out
            message = bytes(self._buffer[:length])
            del self._buffer[:length]
            if self.phase is Phase.MESSAGES:
                out.append((message[0], message))
                continue
            out.append((self.phase, message))
            if self.phase is Phase.VERSION and not message.startswith(b"RFB 003."):
                raise RfbStreamError(f"not an RFB client: {message!r}")
            self.phase = {
                Phase.VERSION: Phase.SECURITY,
                Phase.SECURITY: Phase.CLIENT_INIT,
                Phase.CLIENT_INIT: Phase.MESSAGES,
            }[self.phase]

    def _length(self) -> int | None:
        """Length of the next message, or ``None`` while its header is incomplete."""
        if self.phase is Phase.VERSION:
            return 12
        if self.phase in (Phase.SECURITY, Phase.CLIENT_INIT):
            return 1
        if not self._buffer:
            return None
        kind = self._buffer[0]
        if kind in FIXED:
            return FIXED[kind]
        if kind == SET_ENCODINGS:
            return None if len(self._buffer) < 4 else 4 + 4 * _u16(self._buffer, 2)
        if kind == CLIENT_CUT_TEXT:
            # a negative length is the Extended Clipboard format (noVNC sends it): its size is
            # the absolute value
            return None if len(self._buffer) < 8 else 8 + abs(_s32(self._buffer, 4))
        if kind == CLIENT_FENCE:
            return None if len(self._buffer) < 9 else 9 + self._buffer[8]
        if kind == SET_DESKTOP_SIZE:
            return None if len(self._buffer) < 8 else 8 + 16 * self._buffer[6]
        if kind == QEMU_CLIENT_MESSAGE:
            return None if len(self._buffer) < 2 else _qemu_length(self._buffer)
        raise RfbStreamError(f"unknown client message type {kind}")


def _u16(buffer: bytearray, offset: int) -> int:
    return int.from_bytes(buffer[offset : offset + 2], "big")


def _s32(buffer: bytearray, offset: int) -> int:
    return int.from_bytes(buffer[offset : offset + 4], "big", signed=True)


def _qemu_length(buffer: bytearray) -> int:
    subtype = buffer[1]
    if subtype == 0:  # extended key event
        return 12
    raise RfbStreamError(f"unsupported QEMU client message {subtype}")
