"""Client → server gateway events carried to every replica (spec §5.2 ``ClientEventCarrier``).

A portal tab's gateway socket and its desktop socket may be open on different replicas. An
inbound gateway event that concerns a desktop (``vdi:access_reply``, ``vdi:access_revoked``) is
therefore not handled where it arrives: :func:`carrier` broadcasts it as a
:data:`CLIENT_EVENT` message ``{"clientId", "userId", "event": {"type", "data"}}``, and on
every replica :func:`listen_client_events` calls the handler registered for ``event.type``
with ``(user_id, client_id, data)``. The handler acts only if its replica holds the socket.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from visa_platform.events.broker import Broker

log = logging.getLogger("visa_platform.events")

CLIENT_EVENT = "ClientEventCarrier"

ClientEventHandler = Callable[[str, str, Any], Awaitable[None]]
"""``handler(user_id, client_id, data)``, as the gateway's inbound handlers."""


def carrier(broker: Broker, event_type: str) -> ClientEventHandler:
    """A gateway inbound handler that sends its event to every replica."""

    async def carry(user_id: str, client_id: str, data: Any) -> None:
        payload = {
            "clientId": client_id,
            "userId": user_id,
            "event": {"type": event_type, "data": data},
        }
        await broker.broadcast(CLIENT_EVENT, payload)

    return carry


def listen_client_events(
    broker: Broker, handlers: Mapping[str, ClientEventHandler]
) -> Callable[[], None]:
    """Give carried events to ``handlers`` (by event type); returns the unregister function."""

    async def on_message(payload: dict[str, Any]) -> None:
        event = payload.get("event")
        client_id, user_id = payload.get("clientId"), payload.get("userId")
        if not isinstance(event, dict) or not isinstance(client_id, str):
            log.warning("event=client_event_malformed")
            return
        handler = handlers.get(str(event.get("type")))
        if handler is not None:
            await handler(str(user_id or ""), client_id, event.get("data"))

    return broker.listen(CLIENT_EVENT, on_message)


__all__ = ["CLIENT_EVENT", "ClientEventHandler", "carrier", "listen_client_events"]
