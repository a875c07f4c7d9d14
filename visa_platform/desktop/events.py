"""The ``vdi:*`` gateway events (spec §1.14), addressed to browser client ids or users.

They reach the right gateway socket through the broker, on whichever replica it is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from visa_platform.desktop.access import ConnectedUser
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.events.broker import Audience, Event, to_users


def to_clients(client_ids: Iterable[str]) -> Audience:
    return Audience(client_ids=frozenset(client_ids))


def access_denied(client_id: str) -> Event:
    return Event("vdi:access_denied", to_clients([client_id]))


def owner_away(client_id: str) -> Event:
    return Event("vdi:owner_away", to_clients([client_id]))


def access_pending(client_id: str) -> Event:
    return Event("vdi:access_pending", to_clients([client_id]))


def connection_failed(client_id: str) -> Event:
    """VISA sends ``vdi:user_disconnected`` without data when the desktop cannot be reached."""
    return Event("vdi:user_disconnected", to_clients([client_id]))


def access_request(
    owners: Iterable[str], session_id: int, user: ConnectedUser, requester: str
) -> Event:
    data = {"sessionId": session_id, "user": user.to_json(), "requesterConnectionId": requester}
    return Event("vdi:access_request", to_clients(owners), data)


def access_reply(
    owners: Iterable[str], session_id: int, requester: str, role: InstanceMemberRole
) -> Event:
    data = {
        "sessionId": session_id,
        "requesterConnectionId": requester,
        "response": role.value,
        "role": role.value,
    }
    return Event("vdi:access_reply", to_clients(owners), data)


def access_cancel(owners: Iterable[str], user: ConnectedUser, requester: str) -> Event:
    data = {"userFullName": user.full_name, "requesterConnectionId": requester}
    return Event("vdi:access_cancel", to_clients(owners), data)


def access_granted(client_id: str, role: InstanceMemberRole) -> Event:
    return Event("vdi:access_granted", to_clients([client_id]), role.value)


def access_revoked_client(client_id: str) -> Event:
    return Event("vdi:access_revoked", to_clients([client_id]))


def access_revoked_user(user_id: str) -> Event:
    return Event("vdi:access_revoked", to_users(user_id))


def user_connected(clients: Iterable[str], user: ConnectedUser, instance_id: int) -> Event:
    data = {"user": user.to_json(), "instanceId": instance_id}
    return Event("vdi:user_connected", to_clients(clients), data)


def user_disconnected(clients: Iterable[str], user: ConnectedUser, instance_id: int) -> Event:
    data = {"user": user.to_json(), "instanceId": instance_id}
    return Event("vdi:user_disconnected", to_clients(clients), data)


def users_connected(
    clients: Iterable[str], users: list[ConnectedUser], instance_id: int, locked: bool
) -> Event | None:
    """Who is in the session; while locked, USER is shown as GUEST. None when nobody is."""
    if not users:
        return None
    shown = [
        u.with_role(InstanceMemberRole.GUEST) if locked and u.role is InstanceMemberRole.USER else u
        for u in users
    ]
    data: dict[str, Any] = {"users": [u.to_json() for u in shown], "instanceId": instance_id}
    return Event("vdi:users_connected", to_clients(clients), data)


def session_locked(clients: Iterable[str]) -> Event:
    return Event("vdi:session_locked", to_clients(clients))


def session_unlocked(clients: Iterable[str]) -> Event:
    return Event("vdi:session_unlocked", to_clients(clients))
