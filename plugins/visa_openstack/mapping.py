"""openstacksdk resources -> platform values: cloud states (spec/domain.md §2.2) and addresses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from visa_platform.compute import (
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudInstanceFault,
    CloudLimit,
    CloudProtocolError,
)
from visa_platform.domain.enums import CloudInstanceState as S

_STATUS: dict[str, S] = {
    "BUILD": S.BUILDING,
    "REBUILD": S.BUILDING,
    "HARD_REBOOT": S.REBOOTING,
    "REBOOT": S.REBOOTING,
    "RESCUE": S.UNAVAILABLE,
    "RESIZE": S.UNAVAILABLE,
    "REVERT_RESIZE": S.UNAVAILABLE,
    "VERIFY_RESIZE": S.UNAVAILABLE,
    "VERIFY_SIZE": S.UNAVAILABLE,
    "DELETED": S.DELETED,
    "SHELVED": S.DELETED,
    "SHELVED_OFFLOADED": S.DELETED,
    "SOFT_DELETED": S.DELETED,
    "PAUSED": S.STOPPED,
    "SHUTOFF": S.STOPPED,
    "SUSPENDED": S.STOPPED,
    "ERROR": S.ERROR,
}


def cloud_state(status: str | None, task_state: str | None, vm_state: str | None) -> S:
    """Nova ``status`` (+ task and vm state) -> cloud state, as VISA maps it (§2.2)."""
    status = (status or "").upper()
    if status == "ACTIVE":
        return S.STOPPING if task_state == "powering-off" else S.ACTIVE
    if status == "MIGRATING":
        return S.ACTIVE_MIGRATING if vm_state == "active" else S.MIGRATING
    return _STATUS.get(status, S.UNKNOWN)


def pick_address(addresses: Mapping[str, Any] | None, address_provider: str | None) -> str | None:
    """The instance IP.

    With ``addressProvider`` (a network name): the first address on that network, or ``None``
    (VISA's rule). Without it: the first IPv4 address on any network, in the server's order.
    """
    if not addresses:
        return None
    if address_provider is not None:
        entries = addresses.get(address_provider) or []
        return str(entries[0]["addr"]) if entries and "addr" in entries[0] else None
    for entries in addresses.values():
        for entry in entries or []:
            if entry.get("version", 4) == 4 and entry.get("addr"):
                return str(entry["addr"])
    return None


def _datetime(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _fault(value: Any) -> CloudInstanceFault | None:
    if not isinstance(value, Mapping) or not value:
        return None
    code = value.get("code")
    return CloudInstanceFault(
        message=value.get("message"),
        code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
        details=value.get("details"),
        created=_datetime(value.get("created")),
    )


def instance_from_json(server: Mapping[str, Any], address_provider: str | None) -> CloudInstance:
    """A Nova server document (microversion 2.1) -> :class:`CloudInstance`.

    A document without an id is malformed (``CloudProtocolError``).
    """
    if not isinstance(server, Mapping) or not server.get("id"):
        raise CloudProtocolError("the cloud returned a server without an id")
    flavor = server.get("flavor") or {}
    flavour_id = flavor.get("id") or flavor.get("original_name")
    image = server.get("image") or {}  # "" when booted from a volume
    metadata = server.get("metadata") or {}
    groups = server.get("security_groups") or []
    return CloudInstance(
        id=str(server["id"]),
        name=str(server.get("name") or ""),
        state=cloud_state(
            server.get("status"),
            server.get("OS-EXT-STS:task_state"),
            server.get("OS-EXT-STS:vm_state"),
        ),
        address=pick_address(server.get("addresses"), address_provider),
        image_id=str(image["id"]) if isinstance(image, Mapping) and image.get("id") else None,
        flavour_id=str(flavour_id) if flavour_id else None,
        created_at=_datetime(server.get("created")),
        fault=_fault(server.get("fault")),
        security_groups=tuple(
            str(g["name"]) for g in groups if isinstance(g, Mapping) and "name" in g
        ),
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


def to_flavour(flavor: Any) -> CloudFlavour:
    return CloudFlavour(
        id=str(flavor.id),
        name=str(flavor.name),
        cpus=float(flavor.vcpus or 0),
        ram=int(flavor.ram or 0),
        disk=int(flavor.disk or 0),
    )


def to_image(image: Any) -> CloudImage:
    return CloudImage(id=str(image.id), name=str(image.name or ""), size=image.size)


def to_limit(absolute: Any) -> CloudLimit:
    return CloudLimit(
        max_total_ram_size=int(absolute.total_ram or 0),
        total_ram_used=int(absolute.total_ram_used or 0),
        max_total_instances=int(absolute.instances or 0),
        total_instances_used=int(absolute.instances_used or 0),
        max_total_cores=int(absolute.total_cores or 0),
        total_cores_used=int(absolute.total_cores_used or 0),
    )
