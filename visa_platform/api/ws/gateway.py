"""``/api/ws/{token}/{clientId}/gateway``: events pushed to the portal (spec/api.md §4.1).

The one-time client token (15 s) is exchanged for a subscription to the user's, the client's and
the user's roles' events. The server pings 5 s after connecting and 5 s after each pong; any
message from the client resets a 60 s idle timer, after which the socket is closed (the portal
reconnects with a new token). Messages other than ``pong`` go to the inbound handlers (the
desktop service registers ``vdi:*`` handlers).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Blueprint, current_app, websocket

from visa_platform.api.json import encode
from visa_platform.events.broker import Event
from visa_platform.runtime import runtime
from visa_platform.services import tokens, users

log = logging.getLogger("visa_platform.gateway")

blueprint = Blueprint("gateway", __name__)

PING_DELAY = 5.0
IDLE_TIMEOUT = 60.0
POLICY_VIOLATION = 1008

InboundHandler = Callable[[str, str, Any], Awaitable[None]]
"""``handler(user_id, client_id, data)`` for one inbound event type."""


def inbound_handlers(app: Any) -> dict[str, InboundHandler]:
    """Per-application registry of inbound event handlers, by event type."""
    handlers: dict[str, InboundHandler] = app.extensions.setdefault("visa_gateway_handlers", {})
    return handlers


def frame(event_type: str, data: Any = None) -> str:
    body: dict[str, Any] = {"type": event_type}
    if data is not None:
        body["data"] = data
    return json.dumps(body, default=encode)


@blueprint.websocket("/ws/<token>/<client_id>/gateway")
async def gateway(token: str, client_id: str) -> None:
    state = runtime(current_app)
    async with state.session() as session:
        user_id = await tokens.consume_client_token(session, token, client_id)
        await session.commit()
        roles = await users.active_role_names(session, user_id) if user_id else frozenset()
    if user_id is None:
        log.info("event=gateway_refused client=%s reason=invalid_token", client_id)
        await websocket.accept()
        await websocket.close(POLICY_VIOLATION, "invalid or expired token")
        return
    await websocket.accept()
    log.info("event=gateway_open user=%s client=%s", user_id, client_id)
    async with state.broker.subscribe(user_id, client_id, roles) as subscriber:
        await _serve(user_id, client_id, subscriber.queue)
    log.info("event=gateway_closed user=%s client=%s", user_id, client_id)


async def _serve(user_id: str, client_id: str, queue: asyncio.Queue[Event]) -> None:
    handlers = inbound_handlers(current_app)
    loop = asyncio.get_running_loop()
    last_seen = loop.time()
    next_ping: float | None = loop.time() + PING_DELAY
    receive: asyncio.Task[Any] = asyncio.ensure_future(websocket.receive())
    outgoing: asyncio.Task[Event] = asyncio.ensure_future(queue.get())
    try:
        while True:
            now = loop.time()
            deadline = last_seen + IDLE_TIMEOUT
            if now >= deadline:
                await websocket.close(1000, "idle")
                return
            wake = min(deadline, next_ping) if next_ping is not None else deadline
            done, _ = await asyncio.wait(
                {receive, outgoing}, timeout=max(0.0, wake - now), return_when="FIRST_COMPLETED"
            )
            if next_ping is not None and loop.time() >= next_ping:
                await websocket.send(frame("ping"))
                next_ping = None
            if outgoing in done:
                event = outgoing.result()
                await websocket.send(frame(event.type, event.data))
                outgoing = asyncio.ensure_future(queue.get())
            if receive in done:
                message = receive.result()
                receive = asyncio.ensure_future(websocket.receive())
                last_seen = loop.time()
                event_type, data = _parse(message)
                if event_type == "pong":
                    next_ping = loop.time() + PING_DELAY
                elif event_type in handlers:
                    await handlers[event_type](user_id, client_id, data)
    finally:
        receive.cancel()
        outgoing.cancel()


def _parse(message: Any) -> tuple[str | None, Any]:
    try:
        body = json.loads(message)
    except (TypeError, ValueError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    return body.get("type"), body.get("data")
