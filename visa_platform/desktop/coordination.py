"""The messages replicas exchange about desktop sessions (spec §5.2, ``eu.ill.visa.vdi.broker``).

Each message is broadcast to every replica (the sender included) and applied by each one to
its *local* sockets only: the members, owners and candidates it holds. Decisions that need the
global view read the database. Payloads are JSON with camelCase keys, users as
``{id, fullName, role}``:

==============================  ===============================================
type                            payload
==============================  ===============================================
``UserConnected``               ``sessionId, clientId, user``
``UserDisconnected``            ``sessionId, clientId, user``
``SessionLocked``               ``sessionId, user`` (the owner who left)
``SessionUnlocked``             ``sessionId``
``SessionClosed``               ``sessionId``
``AccessRequest``               ``sessionId, user, requesterClientId``
``AccessRequestCancellation``   ``sessionId, user, requesterClientId``
``AccessRequestResponse``       ``sessionId, requesterClientId, role``
``AccessRevoked``               ``sessionId, userId``
``InstanceDesktopsEnded``       ``instanceId, state`` (ours: the instance stops,
                                reboots or goes; every replica ends its clients)
==============================  ===============================================
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar, get_type_hints

from visa_platform.desktop.access import ConnectedUser
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.events.broker import Broker

log = logging.getLogger("visa_platform.desktop")


@dataclass(frozen=True)
class Message:
    TYPE: ClassVar[str] = ""


@dataclass(frozen=True)
class UserConnected(Message):
    TYPE: ClassVar[str] = "UserConnected"
    session_id: int
    client_id: str
    user: ConnectedUser


@dataclass(frozen=True)
class UserDisconnected(Message):
    TYPE: ClassVar[str] = "UserDisconnected"
    session_id: int
    client_id: str
    user: ConnectedUser


@dataclass(frozen=True)
class SessionLocked(Message):
    TYPE: ClassVar[str] = "SessionLocked"
    session_id: int
    user: ConnectedUser


@dataclass(frozen=True)
class SessionUnlocked(Message):
    TYPE: ClassVar[str] = "SessionUnlocked"
    session_id: int


@dataclass(frozen=True)
class SessionClosed(Message):
    TYPE: ClassVar[str] = "SessionClosed"
    session_id: int


@dataclass(frozen=True)
class AccessRequest(Message):
    TYPE: ClassVar[str] = "AccessRequest"
    session_id: int
    user: ConnectedUser
    requester_client_id: str


@dataclass(frozen=True)
class AccessRequestCancellation(Message):
    TYPE: ClassVar[str] = "AccessRequestCancellation"
    session_id: int
    user: ConnectedUser
    requester_client_id: str


@dataclass(frozen=True)
class AccessRequestResponse(Message):
    TYPE: ClassVar[str] = "AccessRequestResponse"
    session_id: int
    requester_client_id: str
    role: InstanceMemberRole


@dataclass(frozen=True)
class AccessRevoked(Message):
    TYPE: ClassVar[str] = "AccessRevoked"
    session_id: int
    user_id: str


@dataclass(frozen=True)
class InstanceDesktopsEnded(Message):
    TYPE: ClassVar[str] = "InstanceDesktopsEnded"
    instance_id: int
    state: str


MESSAGES: tuple[type[Message], ...] = (
    UserConnected,
    UserDisconnected,
    SessionLocked,
    SessionUnlocked,
    SessionClosed,
    AccessRequest,
    AccessRequestCancellation,
    AccessRequestResponse,
    AccessRevoked,
    InstanceDesktopsEnded,
)

M = TypeVar("M", bound=Message)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_payload(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(message):
        value = getattr(message, f.name)
        if isinstance(value, ConnectedUser):
            value = value.to_json()
        elif isinstance(value, InstanceMemberRole):
            value = value.value
        out[_camel(f.name)] = value
    return out


def from_payload(cls: type[M], payload: dict[str, Any]) -> M:
    """The message of a payload; ``KeyError``/``ValueError``/``TypeError`` when malformed."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        raw = payload[_camel(f.name)]
        kind = hints[f.name]
        if kind is ConnectedUser:
            values[f.name] = ConnectedUser(
                str(raw["id"]), str(raw["fullName"]), InstanceMemberRole(raw["role"])
            )
        elif kind is InstanceMemberRole:
            values[f.name] = InstanceMemberRole(raw)
        elif kind is int:
            values[f.name] = int(raw)
        else:
            values[f.name] = str(raw)
    return cls(**values)


class Coordinator:
    """Sends desktop messages through the broker and calls this replica's handlers."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._unlisten: list[Callable[[], None]] = []

    async def send(self, message: Message) -> None:
        await self.broker.broadcast(message.TYPE, to_payload(message))

    def on(self, cls: type[M], handler: Callable[[M], Awaitable[None]]) -> None:
        async def receive(payload: dict[str, Any]) -> None:
            try:
                message = from_payload(cls, payload)
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("event=desktop_message_malformed type=%s error=%r", cls.TYPE, exc)
                return
            await handler(message)

        self._unlisten.append(self.broker.listen(cls.TYPE, receive))

    def keep(self, unlisten: Callable[[], None]) -> None:
        """Also call ``unlisten`` on :meth:`close` (another registration of the service)."""
        self._unlisten.append(unlisten)

    def close(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten.clear()


__all__ = [
    "MESSAGES",
    "AccessRequest",
    "AccessRequestCancellation",
    "AccessRequestResponse",
    "AccessRevoked",
    "Coordinator",
    "InstanceDesktopsEnded",
    "Message",
    "SessionClosed",
    "SessionLocked",
    "SessionUnlocked",
    "UserConnected",
    "UserDisconnected",
    "from_payload",
    "to_payload",
]
