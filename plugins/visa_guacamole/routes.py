"""``/api/ws/vdi/{token}/{clientId}/guacamole``: the browser's Guacamole tunnel (api.md §4.2)."""

from __future__ import annotations

from quart import Blueprint, current_app, websocket

from visa_guacamole.protocol import GuacamoleProtocol
from visa_platform.desktop.protocol import CloseWhy
from visa_platform.desktop.service import desktop_service
from visa_platform.desktop.sockets import QuartBrowserSocket

SUBPROTOCOL = "guacamole"

blueprint = Blueprint("visa_guacamole", __name__)


@blueprint.websocket("/ws/vdi/<token>/<client_id>/guacamole")
async def guacamole_tunnel(token: str, client_id: str) -> None:
    """guacamole-common-js's WebSocketTunnel asks for the ``guacamole`` subprotocol."""
    asked = SUBPROTOCOL in websocket.requested_subprotocols
    await websocket.accept(subprotocol=SUBPROTOCOL if asked else None)
    try:
        service = desktop_service(current_app)
    except RuntimeError:  # VISA_VDI_ENABLED=false
        await websocket.close(1011, GuacamoleProtocol.close_reason_for(CloseWhy.UNREACHABLE))
        return
    await service.serve(QuartBrowserSocket(websocket), token, client_id, SUBPROTOCOL)
