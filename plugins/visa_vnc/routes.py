"""``/api/ws/vdi/{token}/{clientId}/vnc``: noVNC's websocket (binary RFB frames)."""

from __future__ import annotations

from quart import Blueprint, current_app, websocket

from visa_platform.desktop.service import desktop_service
from visa_platform.desktop.sockets import QuartBrowserSocket

blueprint = Blueprint("visa_vnc", __name__)


@blueprint.websocket("/ws/vdi/<token>/<client_id>/vnc")
async def vnc_socket(token: str, client_id: str) -> None:
    """noVNC asks for no subprotocol, or ``binary`` (older versions)."""
    asked = "binary" in websocket.requested_subprotocols
    await websocket.accept(subprotocol="binary" if asked else None)
    await desktop_service(current_app).serve(QuartBrowserSocket(websocket), token, client_id, "vnc")
