"""The ``web`` compute backend: an async HTTP client of the web cloud provider contract.

Parameters: ``url`` (the provider's base URL; paths are ``<url>/api/...``) and ``authToken``
(sent as ``X-Auth-Token``). Unlike VISA's client, which swallowed most errors into empty lists,
every failure is raised as a typed cloud error so callers can tell "none" from "unknown".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from visa_platform.compute import (
    BackendConfig,
    Capability,
    CloudAuthenticationError,
    CloudConfigurationError,
    CloudError,
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudInstanceFault,
    CloudInstanceIdentifier,
    CloudLimit,
    CloudNotFoundError,
    CloudProtocolError,
    CloudRejectedError,
    CloudUnavailableError,
    ComputeBackend,
    InstanceRequest,
    parse_cloud_state,
    sorted_names,
)

log = logging.getLogger("visa_webcloud")


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def instance_from_json(body: Any) -> CloudInstance:
    """A provider's CloudInstance JSON -> :class:`CloudInstance` (unknown state = UNKNOWN)."""
    if not isinstance(body, Mapping) or body.get("id") in (None, ""):
        raise CloudProtocolError("the provider returned an instance without an id")
    fault = body.get("fault")
    code = fault.get("code") if isinstance(fault, Mapping) else None
    metadata = body.get("metadata")
    return CloudInstance(
        id=str(body["id"]),
        name=str(body.get("name") or ""),
        state=parse_cloud_state(body.get("state")),
        address=_optional_str(body.get("address")),
        image_id=_optional_str(body.get("imageId")),
        flavour_id=_optional_str(body.get("flavourId")),
        created_at=_datetime(body.get("createdAt")),
        fault=CloudInstanceFault(
            message=_optional_str(fault.get("message")),
            code=code if isinstance(code, int) else None,
            details=_optional_str(fault.get("details")),
            created=_datetime(fault.get("created")),
        )
        if isinstance(fault, Mapping) and fault
        else None,
        security_groups=tuple(str(g) for g in body.get("securityGroups") or []),
        metadata={str(k): str(v) for k, v in metadata.items()}
        if isinstance(metadata, Mapping)
        else {},
    )


class WebCloudBackend(ComputeBackend):
    """Instances managed by a site's web provider service."""

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

    def __init__(self, config: BackendConfig) -> None:
        url, token = config.parameter("url"), config.parameter("authToken")
        problems = []
        if not url:
            problems.append("url is required")
        elif urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            problems.append(f"url: {url!r} is not an http(s) URL")
        if not token:
            problems.append("authToken is required")
        if problems or url is None or token is None:
            raise CloudConfigurationError(f"web cloud {config.name!r}: " + "; ".join(problems))
        self.url = url.rstrip("/")
        self.call_timeout = config.call_timeout
        timeout = httpx.Timeout(
            config.read_timeout, connect=config.connect_timeout, pool=config.connect_timeout
        )
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers={"X-Auth-Token": token, "Accept": "application/json"},
            timeout=timeout,
        )

    @classmethod
    def from_config(cls, config: BackendConfig) -> WebCloudBackend:
        """The registry factory."""
        return cls(config)

    async def _request(
        self, method: str, path: str, *, json: Any = None, not_found_ok: bool = False
    ) -> Any:
        """One request, bounded by the call timeout; the decoded JSON body (``None`` if empty).

        With ``not_found_ok`` a 404 returns the sentinel :data:`NOT_FOUND` instead of raising.
        """
        operation = f"{method} {path}"
        try:
            async with asyncio.timeout(self.call_timeout):
                response = await self._http.request(method, path, json=json)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise CloudUnavailableError(f"{operation}: timed out ({exc!r})") from exc
        except httpx.TransportError as exc:
            raise CloudUnavailableError(f"{operation}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status == 404 and not_found_ok:
            return NOT_FOUND
        if status >= 400:
            raise _error_for(status, f"{operation}: HTTP {status}: {response.text[:300]}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise CloudProtocolError(f"{operation}: the answer is not JSON") from exc

    async def _list(self, path: str) -> list[Any]:
        body = await self._request("GET", path)
        if not isinstance(body, list):
            raise CloudProtocolError(f"GET {path}: expected a JSON list")
        return body

    @staticmethod
    def _path(instance_id: str, suffix: str = "") -> str:
        return f"/api/instances/{quote(instance_id, safe='')}{suffix}"

    # -- servers ----------------------------------------------------------------------------

    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        body: dict[str, Any] = {
            "name": request.name,
            "imageId": request.image_id,
            "flavourId": request.flavour_id,
            "securityGroups": list(request.security_groups),
            "metadata": dict(request.metadata),
        }
        if request.boot_command is not None:
            body["bootCommand"] = request.boot_command
        created = await self._request("POST", "/api/instances", json=body)
        if not isinstance(created, Mapping) or created.get("id") in (None, ""):
            raise CloudProtocolError("POST /api/instances: the answer has no id")
        instance = await self.get_instance(str(created["id"]))
        if instance is None:
            raise CloudProtocolError(f"instance {created['id']} vanished right after creation")
        return instance

    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        body = await self._request("GET", self._path(instance_id), not_found_ok=True)
        return None if body is NOT_FOUND else instance_from_json(body)

    async def list_instances(self) -> list[CloudInstance]:
        return [instance_from_json(i) for i in await self._list("/api/instances")]

    async def list_instance_identifiers(self) -> list[CloudInstanceIdentifier]:
        items = await self._list("/api/instances/identifiers")
        try:
            return [CloudInstanceIdentifier(id=str(i["id"]), name=str(i["name"])) for i in items]
        except (KeyError, TypeError) as exc:
            raise CloudProtocolError("GET /api/instances/identifiers: malformed item") from exc

    async def start_instance(self, instance_id: str) -> None:
        await self._request("POST", self._path(instance_id, "/start"))

    async def shutdown_instance(self, instance_id: str) -> None:
        await self._request("POST", self._path(instance_id, "/shutdown"))

    async def reboot_instance(self, instance_id: str) -> None:
        await self._request("POST", self._path(instance_id, "/reboot"))

    async def delete_instance(self, instance_id: str) -> None:
        await self._request("DELETE", self._path(instance_id))

    # -- catalogue --------------------------------------------------------------------------

    async def images(self) -> list[CloudImage]:
        items = await self._list("/api/images")
        try:
            return [
                CloudImage(id=str(i["id"]), name=str(i.get("name") or ""), size=i.get("size"))
                for i in items
            ]
        except (KeyError, TypeError, AttributeError) as exc:
            raise CloudProtocolError("GET /api/images: malformed item") from exc

    async def image(self, image_id: str) -> CloudImage | None:
        body = await self._request(
            "GET", f"/api/images/{quote(image_id, safe='')}", not_found_ok=True
        )
        if body is NOT_FOUND:
            return None
        if not isinstance(body, Mapping) or "id" not in body:
            raise CloudProtocolError("GET /api/images/{id}: malformed image")
        return CloudImage(
            id=str(body["id"]), name=str(body.get("name") or ""), size=body.get("size")
        )

    @staticmethod
    def _flavour(item: Any) -> CloudFlavour:
        try:
            return CloudFlavour(
                id=str(item["id"]),
                name=str(item.get("name") or ""),
                cpus=float(item.get("cpus") or 0),
                ram=int(item.get("ram") or 0),
                disk=int(item.get("disk") or 0),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CloudProtocolError(f"malformed flavour {item!r:.100}") from exc

    async def flavours(self) -> list[CloudFlavour]:
        return [self._flavour(f) for f in await self._list("/api/flavours")]

    async def flavour(self, flavour_id: str) -> CloudFlavour | None:
        body = await self._request(
            "GET", f"/api/flavours/{quote(flavour_id, safe='')}", not_found_ok=True
        )
        return None if body is NOT_FOUND else self._flavour(body)

    async def limits(self) -> CloudLimit | None:
        body = await self._request("GET", "/api/metrics")
        try:
            return CloudLimit(
                max_total_ram_size=int(body["maxTotalRamSize"]),
                total_ram_used=int(body["totalRamUsed"]),
                max_total_instances=int(body["maxTotalInstances"]),
                total_instances_used=int(body["totalInstancesUsed"]),
                max_total_cores=int(body["maxTotalCores"]),
                total_cores_used=int(body["totalCoresUsed"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CloudProtocolError("GET /api/metrics: malformed metrics") from exc

    # -- security groups --------------------------------------------------------------------

    async def security_groups(self) -> list[str]:
        return sorted_names(str(n) for n in await self._list("/api/security_groups"))

    async def instance_security_groups(self, instance_id: str) -> list[str]:
        return [str(n) for n in await self._list(self._path(instance_id, "/security_groups"))]

    async def add_security_group(self, instance_id: str, name: str) -> None:
        await self._request(
            "POST", self._path(instance_id, "/security_groups"), json={"name": name}
        )

    async def remove_security_group(self, instance_id: str, name: str) -> None:
        await self._request(
            "POST", self._path(instance_id, "/security_groups/remove"), json={"name": name}
        )

    async def close(self) -> None:
        await self._http.aclose()


class _NotFound:
    """Marks a 404 answer where the caller asked for it."""


NOT_FOUND: Any = _NotFound()


def _error_for(status: int, message: str) -> CloudError:
    if status == 401:
        return CloudAuthenticationError(message, status=status)
    if status == 404:
        return CloudNotFoundError(message, status=status)
    if status >= 500 or status == 429:
        return CloudUnavailableError(message, status=status)
    return CloudRejectedError(message, status=status)
