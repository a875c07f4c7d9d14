"""Values passed to hooks. Frozen dataclasses, so that adding a field never breaks a plugin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RequestCredentials:
    """What an authentication plugin may look at: the request line and headers, no body.

    ``headers`` keys are lower case.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    remote_addr: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class SecurityGroupQuery:
    """The instance whose cloud security groups are being decided (spec/domain.md §5).

    ``cloud_id`` is the cloud_provider_configuration id, ``None`` for the default cloud.
    ``owner_roles`` holds the owner's role *and group* names linked in user_role.
    """

    instance_id: int
    instance_uid: str
    owner_id: str
    owner_roles: frozenset[str]
    flavour_id: int | None
    cloud_id: int | None
    experiment_ids: tuple[str, ...] = ()
    instrument_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class InstanceEvent:
    """A snapshot of an instance at the moment of an event."""

    instance_id: int
    uid: str
    name: str
    state: str
    owner_id: str | None
    plan_id: int | None
    compute_id: str | None
    occurred_at: datetime
    actor_id: str | None = None  # the user who caused it; None for the system


@dataclass(frozen=True)
class SessionEvent:
    """A remote-desktop client joining or leaving an instance's desktop session."""

    instance_id: int
    instance_uid: str
    user_id: str
    role: str  # InstanceMemberRole name
    protocol: str  # desktop protocol id, e.g. "guacamole"
    connection_id: str
    client_id: str
    occurred_at: datetime
    reason: str | None = None  # why a session closed, when known


@dataclass(frozen=True)
class UserEvent:
    """A user authenticated to VISA."""

    user_id: str
    username: str | None
    first_login: bool
    occurred_at: datetime
    attributes: Mapping[str, str] = field(default_factory=dict)
