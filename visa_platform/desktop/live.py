"""What one process holds about the desktops it relays: sessions, members, waiting requesters.

Only this process's sockets are here. Whatever needs the view of every replica (who is connected,
is the owner there) is read from the database rows (:mod:`visa_platform.desktop.rows`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from visa_platform.desktop.access import ConnectedUser, Visitor
from visa_platform.desktop.protocol import CloseWhy, RemoteDesktop
from visa_platform.desktop.sockets import BrowserSocket
from visa_platform.domain.enums import InstanceMemberRole


@dataclass(eq=False)
class LiveSession:
    """A desktop session (one ``instance_session`` row) with its members on this process."""

    id: int
    instance_id: int
    instance_uid: str
    protocol: str
    connection_id: str
    locked: bool = False
    members: dict[str, Member] = field(default_factory=dict)

    def clients(self, *, owners: bool | None = None, but: str | None = None) -> list[str]:
        """Client ids of local members: all, only owners (True) or only non-owners (False)."""
        return [
            m.client_id
            for m in self.members.values()
            if m.client_id != but and (owners is None or m.is_owner is owners)
        ]


@dataclass(eq=False)
class Member:
    """A browser tab relayed to a desktop."""

    client_id: str
    user: ConnectedUser
    session: LiveSession
    socket: BrowserSocket
    remote: RemoteDesktop
    can_connect_while_owner_away: bool
    #: The ``instance_session_member`` row of this connection.
    row_id: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    why: CloseWhy | None = None

    @property
    def role(self) -> InstanceMemberRole:
        return self.user.role

    @property
    def is_owner(self) -> bool:
        return self.user.role is InstanceMemberRole.OWNER

    def end(self, why: CloseWhy) -> None:
        """Ask the relay to stop; the first reason given is kept."""
        if self.why is None:
            self.why = why
        self.stop.set()


@dataclass(eq=False)
class Candidate:
    """A support user waiting for the owner's answer (spec §1.8), socket open, no relay."""

    client_id: str
    visitor: Visitor
    session_id: int
    socket: BrowserSocket
    #: The owner's raw answer, or ``None`` when the owner left before answering.
    answer: asyncio.Future[str | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, answer: str | None) -> None:
        if not self.answer.done():
            self.answer.set_result(answer)


__all__ = ["Candidate", "LiveSession", "Member"]
