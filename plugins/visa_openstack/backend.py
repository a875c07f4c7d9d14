"""The ``openstack`` compute backend: VISA's OpenStack provider on openstacksdk (spec §3.3).

One connection per cloud client, shared by concurrent calls (keystoneauth sessions are
thread-safe); each call runs in the bounded pool of :mod:`visa_openstack.executor` with a
deadline, and every failure is translated to a typed cloud error.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

from openstack import exceptions as sdk
from openstack.connection import Connection

from visa_openstack.connection import connect
from visa_openstack.errors import translate
from visa_openstack.executor import Progress, run_blocking
from visa_openstack.mapping import instance_from_json, to_flavour, to_image, to_limit
from visa_openstack.settings import OpenStackSettings
from visa_platform.compute import (
    BackendConfig,
    Capability,
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudInstanceIdentifier,
    CloudLimit,
    CloudProtocolError,
    ComputeBackend,
    InstanceRequest,
    sorted_names,
)

log = logging.getLogger("visa_openstack")
T = TypeVar("T")


class OpenStackBackend(ComputeBackend):
    """Servers on Nova, images on Glance, security groups on Neutron."""

    capabilities = frozenset(
        {
            Capability.START_STOP,
            Capability.REBOOT,
            Capability.SECURITY_GROUPS,
            Capability.LIMITS,
            Capability.BOOT_COMMAND,
            Capability.CATALOGUE,
        }
    )

    def __init__(self, settings: OpenStackSettings) -> None:
        self.settings = settings
        self._connection: Connection = connect(settings)

    @classmethod
    def from_config(cls, config: BackendConfig) -> OpenStackBackend:
        """The registry factory: validate the parameters, then build the connection."""
        return cls(OpenStackSettings.from_config(config))

    async def _call(self, operation: str, function: Callable[[Connection], T]) -> T:
        return await self._call_with_progress(operation, lambda c, _progress: function(c))

    async def _call_with_progress(
        self, operation: str, function: Callable[[Connection, Progress], T]
    ) -> T:
        connection = self._connection

        def blocking(progress: Progress) -> T:
            try:
                return function(connection, progress)
            except Exception as exc:
                raise translate(exc, operation) from exc

        return await run_blocking(
            blocking, deadline=self.settings.call_timeout, operation=operation
        )

    @staticmethod
    def _compute_pages(
        connection: Connection, path: str, key: str, progress: Progress
    ) -> Iterator[dict[str, Any]]:
        """Items of a Nova listing, page by page (``<key>_links`` next), as raw JSON.

        openstacksdk's resource objects cost milliseconds each; a listing of thousands of
        servers reads the JSON directly, through the same authenticated session.
        """
        url: str | None = path
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            response = connection.compute.get(url)
            sdk.raise_from_response(response)
            body = response.json()
            items = body[key]
            if not isinstance(items, list):
                raise CloudProtocolError(f"{path}: {key!r} is not a list")
            yield from items
            progress.touch()
            links = body.get(f"{key}_links") or []
            url = next((link["href"] for link in links if link.get("rel") == "next"), None)
            if not items:
                break

    def _fetch(self, connection: Connection, instance_id: str) -> CloudInstance | None:
        response = connection.compute.get(f"/servers/{quote(instance_id, safe='')}")
        if response.status_code == 404:
            return None
        sdk.raise_from_response(response)
        return instance_from_json(response.json()["server"], self.settings.address_provider)

    # -- servers ----------------------------------------------------------------------------

    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        attrs: dict[str, Any] = {
            "name": request.name,
            "image_id": request.image_id,
            "flavor_id": request.flavour_id,
            "networks": [{"uuid": n} for n in self.settings.network_ids],
            "metadata": dict(request.metadata),
        }
        if request.security_groups:
            attrs["security_groups"] = [{"name": n} for n in request.security_groups]
        if request.boot_command is not None:
            attrs["user_data"] = base64.b64encode(request.boot_command.encode()).decode("ascii")

        def create(c: Connection) -> CloudInstance:
            server = c.compute.create_server(**attrs)
            instance = self._fetch(c, str(server.id))
            if instance is None:
                raise CloudProtocolError(f"server {server.id} vanished right after creation")
            return instance

        instance = await self._call("create server", create)
        log.info("operation=create_server server=%s name=%s", instance.id, request.name)
        return instance

    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        return await self._call(f"get server {instance_id}", lambda c: self._fetch(c, instance_id))

    async def list_instances(self) -> list[CloudInstance]:
        provider = self.settings.address_provider
        return await self._call_with_progress(
            "list servers",
            lambda c, progress: [
                instance_from_json(s, provider)
                for s in self._compute_pages(c, "/servers/detail", "servers", progress)
            ],
        )

    async def list_instance_identifiers(self) -> list[CloudInstanceIdentifier]:
        return await self._call_with_progress(
            "list server ids",
            lambda c, progress: [
                CloudInstanceIdentifier(id=str(s["id"]), name=str(s.get("name") or ""))
                for s in self._compute_pages(c, "/servers", "servers", progress)
            ],
        )

    async def start_instance(self, instance_id: str) -> None:
        await self._call(
            f"start server {instance_id}", lambda c: c.compute.start_server(instance_id)
        )

    async def shutdown_instance(self, instance_id: str) -> None:
        await self._call(f"stop server {instance_id}", lambda c: c.compute.stop_server(instance_id))

    async def reboot_instance(self, instance_id: str) -> None:
        await self._call(
            f"reboot server {instance_id}", lambda c: c.compute.reboot_server(instance_id, "HARD")
        )

    async def delete_instance(self, instance_id: str) -> None:
        await self._call(
            f"delete server {instance_id}",
            lambda c: c.compute.delete_server(instance_id, ignore_missing=False),
        )

    # -- catalogue --------------------------------------------------------------------------

    async def images(self) -> list[CloudImage]:
        return await self._call("list images", lambda c: [to_image(i) for i in c.image.images()])

    async def image(self, image_id: str) -> CloudImage | None:
        def get(c: Connection) -> CloudImage | None:
            try:
                return to_image(c.image.get_image(image_id))
            except sdk.NotFoundException:
                return None

        return await self._call(f"get image {image_id}", get)

    async def flavours(self) -> list[CloudFlavour]:
        return await self._call(
            "list flavours", lambda c: [to_flavour(f) for f in c.compute.flavors(details=True)]
        )

    async def flavour(self, flavour_id: str) -> CloudFlavour | None:
        def get(c: Connection) -> CloudFlavour | None:
            try:
                return to_flavour(c.compute.get_flavor(flavour_id))
            except sdk.NotFoundException:
                return None

        return await self._call(f"get flavour {flavour_id}", get)

    async def limits(self) -> CloudLimit | None:
        return await self._call("limits", lambda c: to_limit(c.compute.get_limits().absolute))

    # -- security groups --------------------------------------------------------------------

    async def security_groups(self) -> list[str]:
        return await self._call(
            "list security groups",
            lambda c: sorted_names(str(g.name) for g in c.network.security_groups() if g.name),
        )

    async def instance_security_groups(self, instance_id: str) -> list[str]:
        def fetch(c: Connection) -> list[str]:
            server = c.compute.fetch_server_security_groups(instance_id)
            return [str(g["name"]) for g in server.security_groups or []]

        return await self._call(f"security groups of server {instance_id}", fetch)

    async def add_security_group(self, instance_id: str, name: str) -> None:
        await self._call(
            f"add security group {name} to server {instance_id}",
            lambda c: c.compute.add_security_group_to_server(instance_id, name),
        )

    async def remove_security_group(self, instance_id: str, name: str) -> None:
        await self._call(
            f"remove security group {name} from server {instance_id}",
            lambda c: c.compute.remove_security_group_from_server(instance_id, name),
        )

    async def close(self) -> None:
        connection = self._connection
        await run_blocking(lambda _p: connection.close(), deadline=5, operation="close")
