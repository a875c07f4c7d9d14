"""``/api/ws/vdi/{token}/{clientId}/webx``: webx-client's WebXWebSocketTunnel (binary frames)."""

from __future__ import annotations

from quart import Blueprint, current_app, websocket

from visa_platform.desktop.protocol import CloseWhy
from visa_platform.desktop.service import CLOSE_CODES, desktop_service
from visa_platform.desktop.sockets import QuartBrowserSocket
from visa_webx import wire
from visa_webx.protocol import REASONS

SUBPROTOCOL = "webx"

blueprint = Blueprint("visa_webx", __name__)


@blueprint.websocket("/ws/vdi/<token>/<client_id>/webx")
async def webx_tunnel(token: str, client_id: str) -> None:
    """The server speaks ``webx``; webx-client asks for no subprotocol, so none is required
    (answering one the client did not ask for would make the browser fail the socket)."""
    asked = SUBPROTOCOL in websocket.requested_subprotocols
    await websocket.accept(subprotocol=SUBPROTOCOL if asked else None)
    try:
        service = desktop_service(current_app)
    except RuntimeError:  # VISA_VDI_ENABLED=false
        why = CloseWhy.UNREACHABLE
        await websocket.close(CLOSE_CODES[why], REASONS[why])
        return
    version = wire.client_version(websocket.args.get("client-version"))
    options = {"clientVersion": version}
    await service.serve(QuartBrowserSocket(websocket), token, client_id, SUBPROTOCOL, options)
