"""The plugin host.

A plugin is a module (or a module-level object) named by an entry point in the ``visa_platform``
group of its distribution's ``pyproject.toml``::

    [project.entry-points.visa_platform]
    my_site = "my_site.plugin"

and implements hooks with :data:`hookimpl`::

    from visa_platform.plugin import hookimpl

    @hookimpl
    async def visa_instance_created(event):
        ...

Every hook is documented in ``docs/plugins/hooks.md`` and specified in
:mod:`visa_platform.plugin.hookspecs`. The host calls hooks through :class:`PluginHost`.
"""

from visa_platform.plugin.hookspecs import hookimpl
from visa_platform.plugin.manager import PluginHost, PluginInfo, hook_names
from visa_platform.plugin.registry import Register, Registry, RegistryError, RouteRegister

__all__ = [
    "PluginHost",
    "PluginInfo",
    "Register",
    "Registry",
    "RegistryError",
    "RouteRegister",
    "hook_names",
    "hookimpl",
]
