"""The OpenStack backend's configuration, read from a cloud client's parameters (spec §3.3).

Keys are VISA's: ``identityEndpoint``, ``computeEndpoint``, ``imageEndpoint``,
``networkEndpoint``, ``applicationId``, ``applicationSecret``, ``addressProvider``,
``addressProviderUUID``; ours: ``username``, ``password``, ``projectName``/``projectId``,
``userDomainName``, ``projectDomainName`` (password authentication) and ``regionName``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from visa_platform.compute import BackendConfig, CloudConfigurationError


@dataclass(frozen=True, kw_only=True)
class ApplicationCredential:
    """Keystone v3 application-credential authentication (VISA's only method)."""

    id: str
    secret: str


@dataclass(frozen=True, kw_only=True)
class PasswordCredential:
    """Keystone v3 password authentication, scoped to a project."""

    username: str
    password: str
    project_name: str | None
    project_id: str | None
    user_domain_name: str
    project_domain_name: str


def _base_url(value: str, key: str, versions: str) -> str:
    """``value`` without a trailing slash or version suffix (VISA's endpoints have none)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CloudConfigurationError(f"{key}: {value!r} is not an http(s) URL")
    return re.sub(rf"/(?:{versions})/?$", "", value.rstrip("/"))


@dataclass(frozen=True, kw_only=True)
class OpenStackSettings:
    """Everything the backend needs, validated; every problem is reported at once."""

    identity_url: str
    compute_url: str | None
    image_url: str | None
    network_url: str | None
    credential: ApplicationCredential | PasswordCredential
    address_provider: str | None
    network_ids: tuple[str, ...]
    region_name: str | None
    connect_timeout: float
    read_timeout: float
    call_timeout: float

    @classmethod
    def from_config(cls, config: BackendConfig) -> OpenStackSettings:
        p = config.parameter
        problems: list[str] = []

        def url(key: str, versions: str, required: bool = False) -> str | None:
            value = p(key)
            if value is None:
                if required:
                    problems.append(f"{key} is required")
                return None
            try:
                return _base_url(value, key, versions)
            except CloudConfigurationError as exc:
                problems.append(exc.message)
                return None

        identity = url("identityEndpoint", r"v3|v2\.0", required=True)
        compute = url("computeEndpoint", r"v2\.1|v2")
        image = url("imageEndpoint", r"v2")
        network = url("networkEndpoint", r"v2\.0")
        credential: ApplicationCredential | PasswordCredential | None = None
        app_id, app_secret = p("applicationId"), p("applicationSecret")
        username, password = p("username"), p("password")
        if app_id or app_secret:
            if not (app_id and app_secret):
                problems.append("applicationId and applicationSecret must be given together")
            else:
                credential = ApplicationCredential(id=app_id, secret=app_secret)
        elif username or password:
            project_name, project_id = p("projectName"), p("projectId")
            if not (username and password):
                problems.append("username and password must be given together")
            elif not (project_name or project_id):
                problems.append("password authentication needs projectName or projectId")
            else:
                credential = PasswordCredential(
                    username=username,
                    password=password,
                    project_name=project_name,
                    project_id=project_id,
                    user_domain_name=p("userDomainName") or "Default",
                    project_domain_name=p("projectDomainName") or "Default",
                )
        else:
            problems.append(
                "credentials are required: applicationId and applicationSecret "
                "(or username, password and projectName)"
            )
        if problems or credential is None or identity is None:
            raise CloudConfigurationError(
                f"OpenStack cloud {config.name!r}: " + "; ".join(problems)
            )
        networks = tuple(
            n.strip() for n in (p("addressProviderUUID") or "").split(",") if n.strip()
        )
        return cls(
            identity_url=identity,
            compute_url=compute,
            image_url=image,
            network_url=network,
            credential=credential,
            address_provider=p("addressProvider"),
            network_ids=networks,
            region_name=p("regionName"),
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            call_timeout=config.call_timeout,
        )
