"""Gateway events about instances (spec/api.md §4.1, domain.md §2.7)."""

from __future__ import annotations

from typing import Any

from visa_platform.db.models import Instance
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.events.broker import Event, to_users


def owner_of(instance: Instance) -> str | None:
    return next((m.user_id for m in instance.members if m.role is InstanceMemberRole.OWNER), None)


def epoch_millis(value: Any) -> int | None:
    """Dates in gateway events are epoch milliseconds, as the original's plain mapper wrote."""
    return None if value is None else int(value.timestamp() * 1000)


def state_changed(instance: Instance) -> Event | None:
    """``user:instance_state_changed`` for the owner (None when the instance has no owner)."""
    owner = owner_of(instance)
    if owner is None:
        return None
    protocol = instance.vdi_protocol
    return Event(
        "user:instance_state_changed",
        to_users(owner),
        {
            "instanceId": instance.id,
            "instanceUid": instance.uid,
            "name": instance.name,
            "comments": instance.comments,
            "state": instance.state.name,
            "ipAddress": instance.ip_address,
            "terminationDate": epoch_millis(instance.termination_date),
            "expirationDate": epoch_millis(instance.expiration_date or instance.termination_date),
            "deleteRequested": instance.delete_requested,
            "unrestrictedMemberAccess": instance.unrestricted_member_access is not None,
            "activeProtocols": [p for p in (instance.active_protocols or "").split(",") if p],
            "vdiProtocol": (
                {"id": protocol.id, "name": protocol.name, "port": protocol.port}
                if protocol is not None
                else None
            ),
        },
    )


def instances_changed(user_id: str) -> Event:
    """``user:instances_changed``: the user's list of instances changed (created or deleted)."""
    return Event("user:instances_changed", to_users(user_id))
