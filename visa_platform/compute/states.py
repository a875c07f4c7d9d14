"""Cloud state -> instance state (spec/domain.md §2.3), as pure functions.

The state job (another module) fetches the server, calls :func:`next_instance_state`, runs the
port check when asked and stores the result. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from visa_platform.compute.types import CloudInstance
from visa_platform.domain.enums import CloudInstanceState, InstanceCommandType, InstanceState


def instance_state_for(cloud_state: CloudInstanceState) -> InstanceState:
    """The instance state of the same name (VISA's ``InstanceState.valueOf(cloudState.name())``)."""
    return InstanceState(cloud_state.value)


def parse_cloud_state(name: object) -> CloudInstanceState:
    """A cloud state from its name, in any case; anything unknown is ``UNKNOWN``."""
    if isinstance(name, str):
        try:
            return CloudInstanceState(name.strip().upper())
        except ValueError:
            pass
    return CloudInstanceState.UNKNOWN


def cloud_state_ignored(
    cloud_state: CloudInstanceState, last_user_command: InstanceCommandType | None
) -> bool:
    """True when a stale cloud state must not overwrite the stored one (§2.3).

    After a DELETE the cloud may still say ACTIVE for a moment; after a REBOOT it may still say
    STOPPED.
    """
    return (
        last_user_command is InstanceCommandType.DELETE and cloud_state is CloudInstanceState.ACTIVE
    ) or (
        last_user_command is InstanceCommandType.REBOOT
        and cloud_state is CloudInstanceState.STOPPED
    )


@dataclass(frozen=True, kw_only=True)
class StateUpdate:
    """What the state job should store for one instance.

    ``state`` ``None`` leaves the stored state as it is. ``update_ip`` says whether
    ``ip_address`` must be set to ``ip_address`` (``None`` clears it). ``port_check`` means the
    candidate state is "active" and the port check (§2.4) decides between ACTIVE,
    PARTIALLY_ACTIVE and STARTING.
    """

    state: InstanceState | None
    update_ip: bool = False
    ip_address: str | None = None
    port_check: bool = False


def next_instance_state(
    cloud_instance: CloudInstance | None, last_user_command: InstanceCommandType | None = None
) -> StateUpdate:
    """Apply §2.3 to what the cloud returned (``None`` = the server no longer exists)."""
    if cloud_instance is None:
        return StateUpdate(state=InstanceState.DELETED, update_ip=True, ip_address=None)
    cloud_state = cloud_instance.state
    update_ip = cloud_state is CloudInstanceState.ACTIVE
    ip = cloud_instance.address if update_ip else None
    if cloud_state_ignored(cloud_state, last_user_command):
        return StateUpdate(state=None, update_ip=update_ip, ip_address=ip)
    candidate = instance_state_for(cloud_state)
    return StateUpdate(
        state=candidate, update_ip=update_ip, ip_address=ip, port_check=candidate.is_active
    )


__all__ = [
    "StateUpdate",
    "cloud_state_ignored",
    "instance_state_for",
    "next_instance_state",
    "parse_cloud_state",
]
