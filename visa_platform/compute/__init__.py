"""Compute backends: the contract every cloud plugin implements, and the cloud clients.

See docs/compute.md. Plugins register backend types with ``visa_register_compute_backends``;
:func:`load_cloud_clients` builds one backend object per cloud.
"""

from visa_platform.compute.backend import Capability, ComputeBackend, sorted_names
from visa_platform.compute.clients import (
    DEFAULT_CLOUD_ID,
    CloudClient,
    CloudClients,
    build_backend,
    default_cloud_config,
    load_cloud_clients,
)
from visa_platform.compute.errors import (
    CloudAuthenticationError,
    CloudConfigurationError,
    CloudError,
    CloudNotFoundError,
    CloudNotSupportedError,
    CloudProtocolError,
    CloudRejectedError,
    CloudUnavailableError,
)
from visa_platform.compute.metadata import instance_metadata, server_name
from visa_platform.compute.null import NullBackend
from visa_platform.compute.states import (
    StateUpdate,
    instance_state_for,
    next_instance_state,
    parse_cloud_state,
)
from visa_platform.compute.types import (
    BackendConfig,
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudInstanceFault,
    CloudInstanceIdentifier,
    CloudLimit,
    InstanceRequest,
)

__all__ = [
    "DEFAULT_CLOUD_ID",
    "BackendConfig",
    "Capability",
    "CloudAuthenticationError",
    "CloudClient",
    "CloudClients",
    "CloudConfigurationError",
    "CloudError",
    "CloudFlavour",
    "CloudImage",
    "CloudInstance",
    "CloudInstanceFault",
    "CloudInstanceIdentifier",
    "CloudLimit",
    "CloudNotFoundError",
    "CloudNotSupportedError",
    "CloudProtocolError",
    "CloudRejectedError",
    "CloudUnavailableError",
    "ComputeBackend",
    "InstanceRequest",
    "NullBackend",
    "StateUpdate",
    "build_backend",
    "default_cloud_config",
    "instance_metadata",
    "instance_state_for",
    "load_cloud_clients",
    "next_instance_state",
    "parse_cloud_state",
    "server_name",
    "sorted_names",
]
