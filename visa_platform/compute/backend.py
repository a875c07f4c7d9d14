"""The compute-backend contract: what the host asks of any cloud (spec §3.1, CloudProvider).

A plugin registers a factory with ``visa_register_compute_backends``; the host calls it with a
:class:`~visa_platform.compute.types.BackendConfig` once per cloud client and uses the object for
every request. Backends therefore hold no per-request state and must be safe to call
concurrently. Every method is a coroutine, bounded in time, and raises only
:class:`~visa_platform.compute.errors.CloudError` subclasses. See docs/compute.md.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable
from typing import ClassVar

from visa_platform.compute.errors import CloudNotFoundError, CloudNotSupportedError
from visa_platform.compute.types import (
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudInstanceIdentifier,
    CloudLimit,
    InstanceRequest,
)


class Capability(enum.StrEnum):
    """Optional features; a backend lists those it has in :attr:`ComputeBackend.capabilities`."""

    #: start and shutdown (a cloud without a stopped state lacks it)
    START_STOP = "START_STOP"
    REBOOT = "REBOOT"
    #: per-server security groups: list, add, remove
    SECURITY_GROUPS = "SECURITY_GROUPS"
    #: project quota and usage (``limits``)
    LIMITS = "LIMITS"
    #: the boot command reaches the server (cloud-init user data or equivalent)
    BOOT_COMMAND = "BOOT_COMMAND"
    #: images and flavours are listed by the cloud (not configured in VISA only)
    CATALOGUE = "CATALOGUE"


class ComputeBackend(abc.ABC):
    """One cloud, as the host sees it. Subclass it and implement the abstract methods.

    Contract of every method: a coroutine; finishes within the configured timeouts; raises
    :class:`~visa_platform.compute.errors.CloudError` subclasses only (``CloudNotFoundError``
    when the server named by ``instance_id`` does not exist, except in :meth:`get_instance`,
    which returns ``None``). A missing capability raises ``CloudNotSupportedError``.
    """

    #: What this backend can do beyond create/get/list/delete.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def supports(self, capability: Capability) -> bool:
        """True when the backend has ``capability``."""
        return capability in self.capabilities

    def _unsupported(self, what: str) -> CloudNotSupportedError:
        return CloudNotSupportedError(f"{type(self).__name__} does not support {what}")

    # -- servers ----------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        """Create a server and return it as the cloud reports it right after creation."""

    @abc.abstractmethod
    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        """The server, or ``None`` when the cloud does not know it (deleted)."""

    @abc.abstractmethod
    async def list_instances(self) -> list[CloudInstance]:
        """Every server of the project (all pages)."""

    async def observed_instances(self) -> list[CloudInstance]:
        """Every server, for a state-sync pass: what the backend last observed.

        The engine's state sync calls this once per pass and cloud; a server missing from the
        answer is looked up once more with :meth:`get_instance` before its instance is called
        deleted, so a slightly stale answer is safe. Backends that keep a watch cache (e.g.
        Kubernetes) answer from it with no API call; the default is :meth:`list_instances`.
        """
        return await self.list_instances()

    async def desktop_credentials(self, instance_id: str, protocol: str) -> dict[str, str]:
        """Secrets the desktop relay needs to open ``protocol`` on the server; none by default.

        The relay passes them to the desktop protocol plugin (``DesktopTarget.extra``), never
        to the browser: e.g. the ``local`` backend answers ``{"vncPassword": ...}`` for ``vnc``.
        """
        return {}

    async def list_instance_identifiers(self) -> list[CloudInstanceIdentifier]:
        """Id and name of every server (a backend may do this more cheaply)."""
        return [CloudInstanceIdentifier(id=i.id, name=i.name) for i in await self.list_instances()]

    async def start_instance(self, instance_id: str) -> None:
        """Power a stopped server on."""
        raise self._unsupported("start")

    async def shutdown_instance(self, instance_id: str) -> None:
        """Power a server off (it keeps its disk)."""
        raise self._unsupported("shutdown")

    async def reboot_instance(self, instance_id: str) -> None:
        """Reboot a server (hard reboot, as VISA does)."""
        raise self._unsupported("reboot")

    @abc.abstractmethod
    async def delete_instance(self, instance_id: str) -> None:
        """Delete a server. ``CloudNotFoundError`` if it is already gone."""

    async def ip_address(self, instance_id: str) -> str | None:
        """The address VISA connects to (``None`` until the cloud assigns one)."""
        instance = await self.get_instance(instance_id)
        if instance is None:
            raise CloudNotFoundError(f"server {instance_id} not found")
        return instance.address

    # -- catalogue --------------------------------------------------------------------------

    async def images(self) -> list[CloudImage]:
        """Images the project may boot."""
        raise self._unsupported("listing images")

    async def image(self, image_id: str) -> CloudImage | None:
        """One image, or ``None``."""
        return next((i for i in await self.images() if i.id == image_id), None)

    async def flavours(self) -> list[CloudFlavour]:
        """Flavours the project may use."""
        raise self._unsupported("listing flavours")

    async def flavour(self, flavour_id: str) -> CloudFlavour | None:
        """One flavour, or ``None``."""
        return next((f for f in await self.flavours() if f.id == flavour_id), None)

    async def limits(self) -> CloudLimit | None:
        """Quota totals and usage of the project."""
        raise self._unsupported("limits")

    # -- security groups --------------------------------------------------------------------

    async def security_groups(self) -> list[str]:
        """Names of the security groups that exist in the cloud, sorted case-insensitively."""
        raise self._unsupported("security groups")

    async def instance_security_groups(self, instance_id: str) -> list[str]:
        """Names of the security groups of one server."""
        raise self._unsupported("security groups")

    async def add_security_group(self, instance_id: str, name: str) -> None:
        """Attach a security group to a server."""
        raise self._unsupported("security groups")

    async def remove_security_group(self, instance_id: str, name: str) -> None:
        """Detach a security group from a server."""
        raise self._unsupported("security groups")

    async def update_security_groups(self, instance_id: str, names: Iterable[str]) -> None:
        """Make the server's groups exactly ``names``: remove the extras, then add the missing."""
        wanted = list(dict.fromkeys(names))
        current = await self.instance_security_groups(instance_id)
        for name in current:
            if name not in wanted:
                await self.remove_security_group(instance_id, name)
        for name in wanted:
            if name not in current:
                await self.add_security_group(instance_id, name)

    # -- life -------------------------------------------------------------------------------

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections; the host calls it when the cloud client is removed."""


def sorted_names(names: Iterable[str]) -> list[str]:
    """De-duplicated names sorted case-insensitively (VISA's order for security groups)."""
    return sorted(set(names), key=lambda n: (n.lower(), n))


__all__ = ["Capability", "ComputeBackend", "sorted_names"]
