"""Entry point module: registers the ``openstack`` compute backend type."""

from __future__ import annotations

from visa_openstack.backend import OpenStackBackend
from visa_platform.plugin import Register, hookimpl


@hookimpl
def visa_register_compute_backends(register: Register) -> None:
    register.add(
        "openstack",
        OpenStackBackend.from_config,
        description="OpenStack Nova/Glance/Neutron through openstacksdk",
    )
