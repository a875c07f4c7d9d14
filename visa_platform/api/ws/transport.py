"""Whether the server's websockets use permessage-deflate (``VISA_SERVER_WEBSOCKET_COMPRESSION``).

Browsers offer permessage-deflate on every websocket, and Hypercorn (0.17, 0.18) accepts it with
no setting to refuse it (pgjones/hypercorn#307). For a remote desktop that is the wrong trade: the
stream is mostly base64 images that deflate shrinks by about a quarter, at about 35 ms of CPU per
MB relayed, thirty times the rest of the relay's cost. So unless the setting asks for it, the
extension Hypercorn offers in its handshake is one that declines every offer.

Hypercorn builds its handshake's extensions from the name ``PerMessageDeflate`` in its module
``hypercorn.protocol.ws_stream``; :func:`set_websocket_compression` rebinds that name, process
wide. ``tests/api/test_websocket_compression.py`` checks the handshake both ways, so a Hypercorn
that builds it differently fails there, not silently.
"""

from __future__ import annotations

from hypercorn.protocol import ws_stream
from wsproto.extensions import PerMessageDeflate


class DeclinedDeflate(PerMessageDeflate):
    """permessage-deflate that declines every offer: messages go out uncompressed."""

    def accept(self, offer: str) -> None:
        return None


def set_websocket_compression(enabled: bool) -> None:
    """Let Hypercorn accept permessage-deflate (``True``) or decline it (``False``)."""
    chosen = PerMessageDeflate if enabled else DeclinedDeflate
    ws_stream.PerMessageDeflate = chosen  # type: ignore[attr-defined]


__all__ = ["DeclinedDeflate", "set_websocket_compression"]
