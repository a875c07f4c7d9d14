"""Who is calling: the authenticated principal that services receive as their actor."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class PrincipalKind(enum.StrEnum):
    """How the caller authenticated (spec/domain.md §4.1)."""

    USER = "USER"  # a person, through the accounts service (bearer token)
    APPLICATION = "APPLICATION"  # an application credential (HTTP Basic)
    INSTANCE = "INSTANCE"  # an instance authenticating with its own id and compute id


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``roles`` are the *active authorisation* role names (expired roles and groups excluded), or the
    pseudo-role ``APPLICATION_CREDENTIAL`` / ``INSTANCE_CREDENTIAL`` for machine callers.
    ``username`` is the account login name (used as the desktop login); ``attributes`` are the
    accounts-service account parameters (homePath, uid, gid ...).
    """

    user_id: str
    kind: PrincipalKind = PrincipalKind.USER
    roles: frozenset[str] = frozenset()
    username: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def has_role(self, role: str) -> bool:
        return role in self.roles
