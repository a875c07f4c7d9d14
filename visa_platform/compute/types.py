"""Plain values exchanged with compute backends (spec/desktop-security-cloud.md §3.1).

Frozen dataclasses, keyword-only, so that fields can be added without breaking plugins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from visa_platform.domain.enums import CloudInstanceState


@dataclass(frozen=True, kw_only=True)
class CloudImage:
    """An image the cloud can boot (``size`` in bytes, when the cloud says)."""

    id: str
    name: str
    size: int | None = None


@dataclass(frozen=True, kw_only=True)
class CloudFlavour:
    """A server size: ``cpus`` vCPUs, ``ram`` in MB, ``disk`` in GB."""

    id: str
    name: str
    cpus: float
    ram: int
    disk: int = 0


@dataclass(frozen=True, kw_only=True)
class CloudLimit:
    """Quota totals and usage of the cloud project (OpenStack absolute limits)."""

    max_total_ram_size: int
    total_ram_used: int
    max_total_instances: int
    total_instances_used: int
    max_total_cores: int
    total_cores_used: int


@dataclass(frozen=True, kw_only=True)
class CloudInstanceFault:
    """Why the cloud put a server in ERROR, as the cloud tells it."""

    message: str | None = None
    code: int | None = None
    details: str | None = None
    created: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CloudInstanceIdentifier:
    """Server id and name only (the cheap listing)."""

    id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class CloudInstance:
    """A server as the cloud reports it; ``address`` is the IP VISA connects to."""

    id: str
    name: str
    state: CloudInstanceState
    address: str | None = None
    image_id: str | None = None
    flavour_id: str | None = None
    created_at: datetime | None = None
    fault: CloudInstanceFault | None = None
    security_groups: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class InstanceRequest:
    """What :meth:`ComputeBackend.create_instance` needs (spec §3.2).

    ``metadata`` values are strings (see :func:`visa_platform.compute.instance_metadata`);
    ``boot_command`` is the image's free-text script, delivered as cloud-init user data.
    """

    name: str
    image_id: str
    flavour_id: str
    security_groups: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    boot_command: str | None = None

    def __post_init__(self) -> None:
        for label, value in (
            ("name", self.name),
            ("image_id", self.image_id),
            ("flavour_id", self.flavour_id),
        ):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"InstanceRequest.{label} must be a non-empty string")
        groups: object = self.security_groups
        if isinstance(groups, str):
            raise ValueError("InstanceRequest.security_groups must be a sequence of names")
        object.__setattr__(self, "security_groups", tuple(self.security_groups))
        bad = [
            k for k, v in self.metadata.items() if not isinstance(k, str) or not isinstance(v, str)
        ]
        if bad:
            raise ValueError(f"InstanceRequest.metadata keys and values must be strings: {bad}")


@dataclass(frozen=True, kw_only=True)
class BackendConfig:
    """What a compute backend factory receives: one cloud client's configuration.

    ``parameters`` are the ``cloud_provider_configuration_parameter`` rows of the cloud (for the
    default cloud, the ``VISA_CLOUD_*`` settings under the same keys); values ``""`` and
    ``"null"`` are already removed. Timeouts are in seconds.
    """

    cloud_id: int | None
    name: str
    type: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    server_name_prefix: str = "VISA-INSTANCE"
    connect_timeout: float = 15.0
    read_timeout: float = 30.0
    #: A directory this cloud's backend may keep files in (``<VISA_DATA_DIR>/clouds/<id>``;
    #: created by the backend when it needs it). ``None`` when the host gives none.
    state_directory: Path | None = None

    def parameter(self, key: str) -> str | None:
        """The parameter ``key``, or ``None`` when it is missing."""
        return self.parameters.get(key)

    @property
    def call_timeout(self) -> float:
        """Upper bound of one backend call: a connect, a re-authentication and a read."""
        return self.connect_timeout + 2 * self.read_timeout


__all__ = [
    "BackendConfig",
    "CloudFlavour",
    "CloudImage",
    "CloudInstance",
    "CloudInstanceFault",
    "CloudInstanceIdentifier",
    "CloudLimit",
    "InstanceRequest",
]
