"""The resolvers of the admin schema, by ``Type.field`` (registered per engine in engine.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Resolve = Callable[[Any, dict[str, Any], Any, Any], Awaitable[Any]]

RESOLVERS: dict[str, Resolve] = {}


def resolver(name: str) -> Callable[[Resolve], Resolve]:
    """Record ``name``'s resolver (``"Query.instances"``); each name once."""

    def record(implementation: Resolve) -> Resolve:
        if name in RESOLVERS:
            raise ValueError(f"two resolvers for {name}")
        RESOLVERS[name] = implementation
        return implementation

    return record
