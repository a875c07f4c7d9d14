"""The OpenStack compute backend (type ``openstack``), the platform's default cloud plugin.

Registered through the ``visa_platform`` entry point ``openstack`` like any third-party plugin.
openstacksdk is synchronous, so every call runs in a dedicated bounded thread pool.
"""

from visa_openstack.backend import OpenStackBackend
from visa_openstack.settings import OpenStackSettings

__all__ = ["OpenStackBackend", "OpenStackSettings"]
