"""The plugin host: discovers plugins, registers them with pluggy, and calls hooks for the host.

The rest of the code base calls hooks only through :class:`PluginHost` methods, one per hook,
never through ``pm.hook.<name>(...)``.

Discovery uses the ``visa_platform`` entry-point group through stevedore, honouring an allow list
(only these names) and a deny list (never these). A plugin that fails to import, that implements an
unknown hook or a hook with a wrong signature, or whose registry hook fails, is recorded with its
error; the others load and the server starts.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy
from stevedore import ExtensionManager, NamedExtensionManager

from visa_platform.domain.principal import Principal
from visa_platform.plugin import hookspecs
from visa_platform.plugin.calls import call_all, call_first, implementations, invoke
from visa_platform.plugin.registry import Register, Registry, RouteContribution, RouteRegister

if TYPE_CHECKING:
    import click
    from sqlalchemy.ext.asyncio import AsyncSession

    from visa_platform.plugin.types import (
        InstanceEvent,
        RequestCredentials,
        SecurityGroupQuery,
        SessionEvent,
        UserEvent,
    )
    from visa_platform.runtime import Runtime

log = logging.getLogger("visa_platform.plugin")

ENTRY_POINT_GROUP = "visa_platform"

# Registry kinds: facade attribute -> (hook name, human name used in messages)
REGISTRY_HOOKS: dict[str, tuple[str, str]] = {
    "compute_backends": ("visa_register_compute_backends", "compute backend"),
    "desktop_protocols": ("visa_register_desktop_protocols", "desktop protocol"),
    "account_providers": ("visa_register_account_providers", "account provider"),
    "notification_channels": ("visa_register_notification_channels", "notification channel"),
    "etl_sources": ("visa_register_etl_sources", "ETL source"),
}


@dataclass
class PluginInfo:
    """What ``visa plugins list`` and ``GET /api/plugins`` show about one plugin.

    ``status`` is ``loaded``, ``failed`` (could not be imported or registered), ``disabled``
    (deny list or not in the allow list) or ``missing`` (allow-listed but not installed).
    A loaded plugin may still carry ``errors`` (e.g. a registry hook that raised).
    """

    name: str
    status: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def hook_names() -> list[str]:
    """Names of every hookspec, sorted."""
    return sorted(
        name
        for name in dir(hookspecs)
        if name.startswith("visa_") and hasattr(getattr(hookspecs, name), "visa_platform_spec")
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PluginHost:
    """The host's single door to plugins."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._infos: dict[str, PluginInfo] = {}
        self._registries: dict[str, Registry] | None = None

    # -- discovery and registration ---------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Any) -> PluginHost:
        """A host with the entry-point plugins loaded as ``settings`` allow."""
        host = cls()
        host.load_entry_points(allow=settings.plugins_allow, deny=settings.plugins_deny)
        return host

    def load_entry_points(
        self, allow: Sequence[str] | None = None, deny: Sequence[str] = ()
    ) -> None:
        """Load the ``visa_platform`` entry points, recording every failure instead of raising."""
        # stevedore keeps entry points per namespace for the life of the process; rescan.
        ExtensionManager.ENTRY_POINT_CACHE.pop(ENTRY_POINT_GROUP, None)
        available: dict[str, importlib.metadata.EntryPoint] = {}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            available.setdefault(ep.name, ep)
        denied = set(deny)
        selected = [
            n for n in (list(allow) if allow is not None else sorted(available)) if n not in denied
        ]
        for name in sorted(available):
            if name not in selected:
                dist, version = _distribution(available[name])
                why = "deny list" if name in denied else "not in the allow list"
                self._infos[name] = PluginInfo(
                    name, "disabled", dist, version, errors=[f"disabled ({why})"]
                )
        for name in selected:
            if name not in available:
                self._infos[name] = PluginInfo(
                    name, "missing", errors=["allow-listed but no such entry point is installed"]
                )

        def on_failure(
            _manager: Any, ep: importlib.metadata.EntryPoint, exc: BaseException
        ) -> None:
            dist, version = _distribution(available.get(ep.name, ep))
            log.error("plugin=%s outcome=import_failed error=%r", ep.name, _describe(exc))
            self._infos[ep.name] = PluginInfo(
                ep.name, "failed", dist, version, errors=[f"import failed: {_describe(exc)}"]
            )

        manager: NamedExtensionManager[Any] = NamedExtensionManager(
            namespace=ENTRY_POINT_GROUP,
            names=[n for n in selected if n in available],
            invoke_on_load=False,
            on_load_failure_callback=on_failure,
            name_order=True,
        )
        for ext in manager:
            dist, version = _distribution(available.get(ext.name, ext.entry_point))
            self.register(ext.plugin, ext.name, distribution=dist, version=version)

    def register(
        self,
        plugin: object,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> PluginInfo:
        """Register a plugin object (module or instance); failures are recorded, not raised."""
        info = PluginInfo(name, "loaded", distribution, version)
        self._infos[name] = info
        self._registries = None
        if isinstance(plugin, type):
            info.status = "failed"
            info.errors.append("the entry point names a class; point it at a module or an instance")
            return info
        try:
            self._pm.register(plugin, name=name)
        except Exception as exc:  # PluginValidationError, duplicate names ...
            info.status = "failed"
            info.errors.append(f"registration failed: {_describe(exc)}")
            log.error("plugin=%s outcome=register_failed error=%r", name, _describe(exc))
            return info
        problems = []
        for caller in self._pm.get_hookcallers(plugin) or []:
            impl = next(i for i in caller.get_hookimpls() if i.plugin is plugin)
            if caller.spec is None:
                problems.append(f"implements unknown hook {caller.name!r}")
            elif impl.hookwrapper or impl.wrapper:
                problems.append(f"hook wrappers are not supported ({caller.name})")
        if problems:
            self._pm.unregister(plugin)
            info.status = "failed"
            info.errors.extend(problems)
            log.error("plugin=%s outcome=rejected errors=%r", name, problems)
            return info
        info.hooks = sorted(c.name for c in self._pm.get_hookcallers(plugin) or [])
        return info

    def unregister(self, name: str) -> None:
        """Remove a registered plugin (tests use this to undo ``register``)."""
        plugin = self._pm.get_plugin(name)
        if plugin is not None:
            self._pm.unregister(plugin)
        self._infos.pop(name, None)
        self._registries = None

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen, loaded or not, sorted by name (registry errors included)."""
        self._ensure_registries()
        return [self._infos[n] for n in sorted(self._infos)]

    def _record_error(self, plugin: str, message: str) -> None:
        info = self._infos.setdefault(plugin, PluginInfo(plugin, "loaded"))
        info.errors.append(message)
        log.error("plugin=%s error=%r", plugin, message)

    # -- registries -------------------------------------------------------------------------

    def _ensure_registries(self) -> dict[str, Registry]:
        if self._registries is None:
            registries: dict[str, Registry] = {}
            for attr, (hook_name, kind) in REGISTRY_HOOKS.items():
                registry = Registry(kind)
                # Registration order, so that a plugin loaded later cannot take an id over.
                for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                    register = Register(registry, impl.plugin_name)
                    try:
                        invoke(impl, {"register": register})
                        registry.commit(register.pending)
                    except Exception as exc:
                        self._record_error(
                            impl.plugin_name, f"{hook_name} failed: {_describe(exc)}"
                        )
                registries[attr] = registry
            self._registries = registries
        return self._registries

    @property
    def compute_backends(self) -> Registry:
        return self._ensure_registries()["compute_backends"]

    @property
    def desktop_protocols(self) -> Registry:
        return self._ensure_registries()["desktop_protocols"]

    @property
    def account_providers(self) -> Registry:
        return self._ensure_registries()["account_providers"]

    @property
    def notification_channels(self) -> Registry:
        return self._ensure_registries()["notification_channels"]

    @property
    def etl_sources(self) -> Registry:
        return self._ensure_registries()["etl_sources"]

    # -- application ------------------------------------------------------------------------

    def routes(self) -> list[RouteContribution]:
        """Blueprints contributed through ``visa_register_routes`` (errors recorded)."""
        contributions: list[RouteContribution] = []
        for impl in implementations(self._pm.hook.visa_register_routes):
            mine: list[RouteContribution] = []
            try:
                invoke(impl, {"register": RouteRegister(impl.plugin_name, mine)})
            except Exception as exc:
                self._record_error(
                    impl.plugin_name, f"visa_register_routes failed: {_describe(exc)}"
                )
                continue
            contributions.extend(mine)
        return contributions

    def add_commands(self, cli: click.Group) -> None:
        """Let plugins add ``visa`` sub-commands; a plugin may not replace an existing one."""
        for impl in implementations(self._pm.hook.visa_register_commands):
            before = dict(cli.commands)
            try:
                invoke(impl, {"cli": cli})
            except Exception as exc:
                self._record_error(
                    impl.plugin_name, f"visa_register_commands failed: {_describe(exc)}"
                )
            for name, command in list(cli.commands.items()):
                if name in before and before[name] is not command:
                    cli.commands[name] = before[name]
                    self._record_error(
                        impl.plugin_name, f"command {name!r} already exists; not replaced"
                    )

    async def startup(self, app: Any) -> None:
        await call_all(self._pm.hook.visa_startup, app=app)

    async def shutdown(self, app: Any) -> None:
        await call_all(self._pm.hook.visa_shutdown, app=app)

    # -- policies ---------------------------------------------------------------------------

    async def authenticate_request(
        self, credentials: RequestCredentials, session: AsyncSession, runtime: Runtime
    ) -> Principal | None:
        """The first plugin's answer, or ``None`` (nobody recognised the credentials).

        :class:`~visa_platform.domain.errors.Unavailable` raised by a plugin propagates (the
        request cannot be decided now: HTTP 503); other failures count as no answer.
        """
        from visa_platform.domain.errors import Unavailable

        result = await call_first(
            self._pm.hook.visa_authenticate_request,
            propagate=(Unavailable,),
            credentials=credentials,
            session=session,
            runtime=runtime,
        )
        if result is None:
            return None
        if not isinstance(result.value, Principal):
            log.error(
                "hook=visa_authenticate_request plugin=%s outcome=bad_result type=%s",
                result.plugin,
                type(result.value).__name__,
            )
            return None
        return result.value

    async def instance_security_groups(
        self, query: SecurityGroupQuery, session: AsyncSession
    ) -> list[str]:
        """The ordered, de-duplicated union of every plugin's security-group names."""
        names: dict[str, None] = {}
        for result in await call_all(
            self._pm.hook.visa_instance_security_groups, query=query, session=session
        ):
            groups = result.value
            if (
                isinstance(groups, str)
                or not isinstance(groups, Iterable)
                or not all(isinstance(g, str) for g in groups)
            ):
                log.error(
                    "hook=visa_instance_security_groups plugin=%s outcome=bad_result",
                    result.plugin,
                )
                continue
            for group in groups:
                names.setdefault(group, None)
        return list(names)

    # -- events -----------------------------------------------------------------------------

    async def instance_created(self, event: InstanceEvent) -> None:
        await call_all(self._pm.hook.visa_instance_created, event=event)

    async def instance_state_changed(self, event: InstanceEvent, previous_state: str) -> None:
        await call_all(
            self._pm.hook.visa_instance_state_changed, event=event, previous_state=previous_state
        )

    async def instance_deleted(self, event: InstanceEvent) -> None:
        await call_all(self._pm.hook.visa_instance_deleted, event=event)

    async def session_opened(self, event: SessionEvent) -> None:
        await call_all(self._pm.hook.visa_session_opened, event=event)

    async def session_closed(self, event: SessionEvent) -> None:
        await call_all(self._pm.hook.visa_session_closed, event=event)

    async def user_logged_in(self, event: UserEvent) -> None:
        await call_all(self._pm.hook.visa_user_logged_in, event=event)


def _distribution(ep: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version
