"""The account provider contract.

A provider type is registered with a factory ``factory(settings) -> AccountProvider``. The host
creates one provider per application when it starts serving and closes it when it stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

INVALID_USER_ID = "0"
"""The accounts service's "could not map this login to a facility user" id; never persisted."""


@dataclass(frozen=True)
class Account:
    """A facility account, as an account provider describes the owner of a token.

    ``parameters`` are the account parameters (homePath, uid, gid ...) copied into instance
    attributes at creation. ``roles`` are roles the provider itself asserts (only trusted
    providers such as ``static`` set them); they are granted at login.
    """

    user_id: str
    username: str | None
    first_name: str | None
    last_name: str | None
    email: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    roles: frozenset[str] = frozenset()


class AccountProviderUnavailable(Exception):
    """The provider could not decide (service down, timeout, malformed answer)."""


@runtime_checkable
class AccountProvider(Protocol):
    """Turns a bearer token into an :class:`Account`."""

    async def authenticate(self, token: str) -> Account | None:
        """The token's account, or ``None`` when the token is not valid (HTTP 401).

        Raise :class:`AccountProviderUnavailable` when the answer is unknown.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; called once when the application stops."""
        ...
