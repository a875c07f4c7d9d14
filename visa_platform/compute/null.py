"""The ``null`` backend: a cloud client with no cloud (VISA's NullProvider, type ``null``)."""

from __future__ import annotations

from visa_platform.compute.backend import ComputeBackend
from visa_platform.compute.errors import CloudNotFoundError, CloudNotSupportedError
from visa_platform.compute.types import (
    BackendConfig,
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudLimit,
    InstanceRequest,
)


class NullBackend(ComputeBackend):
    """Knows no servers, images or flavours; creating a server is refused."""

    def __init__(self, config: BackendConfig | None = None) -> None:
        self.config = config

    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        raise CloudNotSupportedError(
            "no cloud is configured (type null)",
            user_message="No cloud is configured for this platform.",
        )

    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        return None

    async def list_instances(self) -> list[CloudInstance]:
        return []

    async def delete_instance(self, instance_id: str) -> None:
        raise CloudNotFoundError(f"server {instance_id} not found (no cloud configured)")

    async def images(self) -> list[CloudImage]:
        return []

    async def flavours(self) -> list[CloudFlavour]:
        return []

    async def limits(self) -> CloudLimit | None:
        return None

    async def security_groups(self) -> list[str]:
        return []


__all__ = ["NullBackend"]
