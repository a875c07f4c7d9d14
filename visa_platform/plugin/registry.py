"""Registries: the *types* plugins contribute by id (compute backends, desktop protocols ...).

A registry hook receives a :class:`Register` bound to the calling plugin and calls
``register.add("openstack", factory, description=...)``. Configuration (or a database row such as a
cloud client) then picks one by id with :meth:`Registry.get`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Factory = Callable[..., Any]

_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-.")


class RegistryError(Exception):
    """A registry was asked for an unknown id or given an invalid or duplicate one."""


@dataclass(frozen=True)
class RegistryEntry:
    """One contributed type: its id, the factory that builds it, and who contributed it."""

    type_id: str
    factory: Factory
    plugin: str
    description: str = ""


class Registry:
    """Types of one kind (e.g. ``compute backend``) contributed by plugins, keyed by id."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, RegistryEntry] = {}

    def _validate(self, type_id: str, factory: Factory, plugin: str) -> None:
        if not type_id or not set(type_id) <= _ID_CHARS:
            raise RegistryError(
                f"{self.kind} id {type_id!r} from plugin {plugin!r} is invalid: "
                "use lower-case letters, digits, '_', '-' and '.'"
            )
        if not callable(factory):
            raise RegistryError(f"{self.kind} {type_id!r} from plugin {plugin!r} is not callable")

    def commit(self, entries: list[RegistryEntry]) -> None:
        """Add one plugin's entries, all or none (a duplicate id rejects the whole batch)."""
        seen: dict[str, RegistryEntry] = dict(self._entries)
        for entry in entries:
            existing = seen.get(entry.type_id)
            if existing is not None:
                raise RegistryError(
                    f"{self.kind} {entry.type_id!r} is registered twice: by plugin "
                    f"{existing.plugin!r} and by plugin {entry.plugin!r}"
                )
            seen[entry.type_id] = entry
        self._entries = seen

    def get(self, type_id: str) -> RegistryEntry:
        """The entry for ``type_id``; :class:`RegistryError` lists the known ids when missing."""
        try:
            return self._entries[type_id]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise RegistryError(f"unknown {self.kind} {type_id!r} (known: {known})") from None

    def create(self, type_id: str, *args: Any, **kwargs: Any) -> Any:
        """Build an instance of ``type_id`` by calling its factory."""
        return self.get(type_id).factory(*args, **kwargs)

    def ids(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._entries

    def __iter__(self) -> Iterator[RegistryEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.type_id))

    def __len__(self) -> int:
        return len(self._entries)


class Register:
    """What a registry hook receives: ``add`` types to one registry in the name of one plugin.

    Additions are collected and committed by the host after the hook returns, all or none.
    """

    def __init__(self, registry: Registry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin
        self.pending: list[RegistryEntry] = []

    @property
    def kind(self) -> str:
        return self._registry.kind

    def add(self, type_id: str, factory: Factory, *, description: str = "") -> None:
        """Contribute ``factory`` under ``type_id``. Ids are unique across all plugins."""
        self._registry._validate(type_id, factory, self.plugin)
        self.pending.append(RegistryEntry(type_id, factory, self.plugin, description))


@dataclass(frozen=True)
class RouteContribution:
    """A Quart blueprint contributed by a plugin, with its URL prefix."""

    blueprint: Any
    url_prefix: str | None
    plugin: str


class RouteRegister:
    """What ``visa_register_routes`` receives: ``add`` Quart blueprints."""

    def __init__(self, plugin: str, sink: list[RouteContribution]) -> None:
        self.plugin = plugin
        self._sink = sink

    def add(self, blueprint: Any, *, url_prefix: str | None = None) -> None:
        """Mount ``blueprint`` (a ``quart.Blueprint``) at ``url_prefix`` (default: its own)."""
        if url_prefix is not None and not url_prefix.startswith("/"):
            raise RegistryError(f"url_prefix {url_prefix!r} from {self.plugin!r} must start with /")
        self._sink.append(RouteContribution(blueprint, url_prefix, self.plugin))
