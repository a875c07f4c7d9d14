"""Build the openstacksdk connection of one cloud: Keystone v3 auth, endpoints, timeouts."""

from __future__ import annotations

from typing import Any

import openstack.connection
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from visa_openstack.settings import ApplicationCredential, OpenStackSettings


def auth_plugin(settings: OpenStackSettings) -> v3.Auth:
    """Application-credential or password auth; keystoneauth re-authenticates on expiry or 401."""
    auth_url = f"{settings.identity_url}/v3"
    credential = settings.credential
    if isinstance(credential, ApplicationCredential):
        return v3.ApplicationCredential(
            auth_url=auth_url,
            application_credential_id=credential.id,
            application_credential_secret=credential.secret,
        )
    return v3.Password(
        auth_url=auth_url,
        username=credential.username,
        password=credential.password,
        user_domain_name=credential.user_domain_name,
        project_name=credential.project_name,
        project_id=credential.project_id,
        project_domain_name=credential.project_domain_name,
    )


def connect(settings: OpenStackSettings) -> openstack.connection.Connection:
    """A connection (no I/O yet): VISA's endpoints override the catalogue when given.

    Nova is pinned to microversion 2.1, as VISA sends no microversion (servers then carry their
    flavour id). Every HTTP request gets the (connect, read) timeouts of the configuration.
    """
    session = ks_session.Session(auth=auth_plugin(settings), timeout=settings.read_timeout)
    # keystoneauth stores one float; requests also takes a (connect, read) pair.
    session.timeout = (settings.connect_timeout, settings.read_timeout)  # type: ignore[assignment]
    options: dict[str, Any] = {"compute_default_microversion": "2.1"}
    if settings.compute_url:
        options["compute_endpoint_override"] = f"{settings.compute_url}/v2.1"
    if settings.image_url:
        options["image_endpoint_override"] = settings.image_url
    if settings.network_url:
        options["network_endpoint_override"] = settings.network_url
    return openstack.connection.Connection(
        session=session, region_name=settings.region_name, **options
    )
