"""Hypercorn's websockets as our server uses them: no compression, frames built with one copy.

Hypercorn (0.17, 0.18) makes its websocket handshake and connections from two names in its module
``hypercorn.protocol.ws_stream``: ``PerMessageDeflate`` (accepted whenever the browser offers it,
with no setting to refuse it: pgjones/hypercorn#307) and wsproto's ``Connection``.
:func:`configure_websockets` rebinds both, process wide:

* **Compression** only when ``VISA_SERVER_WEBSOCKET_COMPRESSION`` asks for it. Browsers always
  offer permessage-deflate; a desktop's stream is mostly base64 images, which deflate shrinks by
  about a quarter at about 35 ms of CPU per MB, thirty times the rest of the relay's cost.
* **Frames** built with one copy of the payload. wsproto's ``Connection.send`` copies a message
  four times after encoding it (into a bytearray, header + payload, a bytearray of that, bytes of
  that): for the relay's frames (up to 1 MiB) that was a fifth of its CPU.
  :class:`OneCopyConnection` builds unfragmented server messages itself when no extension is in
  use and leaves everything else to wsproto.

``tests/api/test_websocket_transport.py`` checks the handshake both ways and compares the frames
with wsproto's own byte for byte, so a Hypercorn or wsproto that works differently fails there.
"""

from __future__ import annotations

import struct

from hypercorn.protocol import ws_stream
from wsproto.connection import Connection, ConnectionState
from wsproto.events import BytesMessage, Event, TextMessage
from wsproto.extensions import PerMessageDeflate

_TEXT = 0x81  # FIN + opcode 1
_BINARY = 0x82  # FIN + opcode 2


class DeclinedDeflate(PerMessageDeflate):
    """permessage-deflate that declines every offer: messages go out uncompressed."""

    def accept(self, offer: str) -> None:
        return None


class OneCopyConnection(Connection):
    """wsproto's connection; a whole message from a server without extensions takes one copy."""

    def send(self, event: Event) -> bytes:
        if (
            type(event) in (TextMessage, BytesMessage)
            and event.message_finished  # type: ignore[attr-defined]
            and not self.client
            and self.state is ConnectionState.OPEN
            and not self._proto.extensions
            and self._proto._outbound_opcode is None  # not inside a fragmented message
        ):
            return server_frame(event.data)  # type: ignore[attr-defined]
        return super().send(event)


def server_frame(data: str | bytes | bytearray) -> bytes:
    """One unmasked, unfragmented websocket frame: text for ``str``, binary for bytes."""
    payload: bytes | bytearray
    if isinstance(data, str):
        first, payload = _TEXT, data.encode()
    else:
        first, payload = _BINARY, data
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    return header + payload


def configure_websockets(compression: bool) -> None:
    """Hypercorn accepts permessage-deflate or declines it; :class:`OneCopyConnection` frames."""
    deflate = PerMessageDeflate if compression else DeclinedDeflate
    ws_stream.PerMessageDeflate = deflate  # type: ignore[attr-defined]
    ws_stream.Connection = OneCopyConnection  # type: ignore[attr-defined]


__all__ = ["DeclinedDeflate", "OneCopyConnection", "configure_websockets", "server_frame"]
