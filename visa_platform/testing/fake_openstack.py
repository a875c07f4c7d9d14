"""A fake OpenStack (Keystone v3, Nova v2.1, Glance v2, Neutron v2.0) over real HTTP.

Enough of the APIs for the real openstacksdk to authenticate (password or application
credential), list flavours/images/security groups (with paging), create, poll, stop, start,
reboot and delete servers, manage a server's security groups and read limits. Services are
path-prefixed on one port: ``/identity``, ``/compute``, ``/image``, ``/network``.

Switches for fault tests, besides the generic :class:`~visa_platform.testing.fakehttp.Faults`
(latency, 5xx, hung requests, malformed bodies): :meth:`FakeOpenStack.expire_tokens` (every
issued token becomes invalid, as after a Keystone restart or expiry), ``token_lifetime``,
``servers_go_to_error`` (new servers end in ERROR with a fault), ``build_seconds`` and
``transition_seconds`` (how long BUILD, powering-off/on and reboots last), quotas in ``limits``.
Server addresses are loopback (127.0.0.x), never a routable address.

Use it with ``async with FakeOpenStack() as cloud:`` or the ``fake_openstack`` pytest fixture.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from visa_platform.testing.fakehttp import (
    BadRequest,
    FakeHttpServer,
    FakeRequest,
    FakeResponse,
    json_response,
)

PROJECT_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
USER_ID = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
NOVA_MAX_MICROVERSION = "2.96"
_OPEN_PATHS = {"/identity", "/identity/v3", "/compute", "/compute/v2.1", "/image", "/network"}
_ID = r"(?P<id>[^/]+)"


def _timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_found(what: str) -> FakeResponse:
    return json_response(
        {"itemNotFound": {"code": 404, "message": f"{what} could not be found."}}, 404
    )


def _bad_request(message: str) -> FakeResponse:
    return json_response({"badRequest": {"code": 400, "message": message}}, 400)


def _conflict(message: str) -> FakeResponse:
    return json_response({"conflictingRequest": {"code": 409, "message": message}}, 409)


class FakeOpenStack(FakeHttpServer):
    """One OpenStack project with its users, catalogue and servers."""

    def __init__(
        self,
        *,
        build_seconds: float = 0.1,
        transition_seconds: float = 0.05,
        page_size: int = 1000,
        image_page_size: int = 25,
        token_lifetime: float = 3600.0,
    ) -> None:
        super().__init__()
        self.build_seconds = build_seconds
        self.transition_seconds = transition_seconds
        self.page_size = page_size
        self.image_page_size = image_page_size
        self.token_lifetime = token_lifetime
        self.servers_go_to_error = False
        self.users: dict[tuple[str, str], str] = {("visa", "Default"): "visa-password"}
        self.application_credentials: dict[str, str] = {"visa-app-id": "visa-app-secret"}
        self.tokens: dict[str, datetime] = {}
        self.flavors: list[dict[str, Any]] = [
            {"id": "1", "name": "m1.small", "ram": 2048, "vcpus": 1, "disk": 20, "extra_specs": {}},
            {"id": "2", "name": "m1.large", "ram": 8192, "vcpus": 4, "disk": 80, "extra_specs": {}},
            {
                "id": "3",
                "name": "g1.gpu",
                "ram": 16384,
                "vcpus": 8,
                "disk": 80,
                "extra_specs": {"pci_passthrough:alias": "a100:1"},
            },
        ]
        self.images: list[dict[str, Any]] = [
            self.image_body("8a8c7f1e-0000-4000-8000-000000000001", "visa-desktop-ubuntu-22.04"),
            self.image_body("8a8c7f1e-0000-4000-8000-000000000002", "visa-jupyter"),
        ]
        self.security_groups: list[dict[str, Any]] = [
            self.security_group_body(n) for n in ("default", "visa-rdp", "visa-ssh", "Beamline-42")
        ]
        self.networks: list[dict[str, Any]] = [
            {"id": "11111111-2222-4333-8444-555555555555", "name": "private"},
            {"id": "66666666-7777-4888-8999-000000000000", "name": "data"},
        ]
        self.limits: dict[str, int] = {
            "maxTotalCores": 200,
            "maxTotalInstances": 50,
            "maxTotalRAMSize": 512000,
        }
        self.servers: dict[str, dict[str, Any]] = {}
        self._addresses = itertools.count(10)
        self._routes_installed()

    # -- configuration helpers --------------------------------------------------------------

    def image_body(self, image_id: str, name: str, size: int = 2147483648) -> dict[str, Any]:
        return {
            "id": image_id,
            "name": name,
            "status": "active",
            "visibility": "public",
            "disk_format": "qcow2",
            "container_format": "bare",
            "min_disk": 10,
            "min_ram": 1024,
            "size": size,
            "tags": [],
            "protected": False,
            "os_hidden": False,
            "owner": PROJECT_ID,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "self": f"/v2/images/{image_id}",
            "file": f"/v2/images/{image_id}/file",
            "schema": "/v2/schemas/image",
        }

    def security_group_body(self, name: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
            "name": name,
            "description": name,
            "tenant_id": PROJECT_ID,
            "project_id": PROJECT_ID,
            "security_group_rules": [],
            "stateful": True,
            "tags": [],
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "revision_number": 1,
        }

    @property
    def identity_endpoint(self) -> str:
        """Keystone base URL without version (VISA's ``identityEndpoint``)."""
        return f"{self.url}/identity"

    @property
    def compute_endpoint(self) -> str:
        """Nova base URL without version (VISA's ``computeEndpoint``)."""
        return f"{self.url}/compute"

    @property
    def image_endpoint(self) -> str:
        return f"{self.url}/image"

    @property
    def network_endpoint(self) -> str:
        return f"{self.url}/network"

    def default_cloud_settings(self) -> dict[str, str]:
        """``load_settings`` keywords for a default cloud on this fake (``VISA_CLOUD_*``)."""
        from visa_platform.compute.clients import DEFAULT_CLOUD_PARAMETERS

        parameters = self.parameters()
        return {"default_cloud_provider_type": "openstack"} | {
            name: parameters[key]
            for key, name in DEFAULT_CLOUD_PARAMETERS.items()
            if key in parameters
        }

    def cloud_client_input(self, name: str = "Second", prefix: str = "SEC") -> dict[str, Any]:
        """A GraphQL ``CloudClientInput`` for an OpenStack cloud client pointed at this fake."""
        parameters = self.parameters()
        keys = (
            "applicationId",
            "applicationSecret",
            "computeEndpoint",
            "imageEndpoint",
            "networkEndpoint",
            "identityEndpoint",
            "addressProvider",
            "addressProviderUUID",
        )
        return {
            "type": "openstack",
            "name": name,
            "serverNamePrefix": prefix,
            "visible": True,
            "openStackProviderConfiguration": {key: parameters[key] for key in keys},
        }

    def parameters(self, auth: str = "application_credential") -> dict[str, str]:
        """``cloud_provider_configuration`` parameters (``auth``: or ``password``)."""
        params = {
            "identityEndpoint": self.identity_endpoint,
            "computeEndpoint": self.compute_endpoint,
            "imageEndpoint": self.image_endpoint,
            "networkEndpoint": self.network_endpoint,
            "addressProvider": self.networks[0]["name"],
            "addressProviderUUID": self.networks[0]["id"],
        }
        if auth == "password":
            params.update(
                username="visa",
                password="visa-password",
                projectName="visa",
                userDomainName="Default",
                projectDomainName="Default",
            )
        else:
            params.update(applicationId="visa-app-id", applicationSecret="visa-app-secret")
        return params

    def expire_tokens(self) -> None:
        """Invalidate every issued token: the next service call gets 401 (the client re-auths)."""
        self.tokens.clear()

    @property
    def auth_count(self) -> int:
        """Token requests received so far."""
        return self.count("POST", "/identity/v3/auth/tokens")

    def add_servers(self, count: int, *, status: str = "ACTIVE") -> list[str]:
        """Add ``count`` servers directly (benchmarks, listings); returns their ids."""
        ids = []
        for n in range(count):
            server = self._new_server(
                name=f"bulk-{n}",
                flavor=self.flavors[n % len(self.flavors)],
                image_id=self.images[0]["id"],
                networks=[self.networks[0]],
                security_groups=["default"],
                metadata={"n": str(n)},
            )
            self._set_status(server, status)
            ids.append(server["id"])
        return ids

    # -- time-driven server state -----------------------------------------------------------

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _set_status(self, server: dict[str, Any], status: str, task: str | None = None) -> None:
        vm_state = {
            "ACTIVE": "active",
            "SHUTOFF": "stopped",
            "BUILD": "building",
            "ERROR": "error",
            "HARD_REBOOT": "active",
            "REBOOT": "active",
        }.get(status, status.lower())
        server["status"] = status
        server["OS-EXT-STS:vm_state"] = vm_state
        server["OS-EXT-STS:task_state"] = task
        server["OS-EXT-STS:power_state"] = 1 if status == "ACTIVE" else 4
        server["updated"] = _timestamp()
        if status == "ACTIVE" and not server["addresses"]:
            server["addresses"] = {
                net["name"]: [
                    {
                        "version": 4,
                        "addr": f"127.0.{i}.{server['_address']}",
                        "OS-EXT-IPS:type": "fixed",
                        "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01",
                    }
                ]
                for i, net in enumerate(server["_networks"])
            }
        if status == "ERROR":
            server["fault"] = {
                "code": 500,
                "message": "No valid host was found. There are not enough hosts available.",
                "details": "Traceback (most recent call last): ...",
                "created": _timestamp(),
            }

    def _advance(self, server: dict[str, Any]) -> None:
        pending = server.get("_pending")
        if pending is not None and self._now() >= pending[0]:
            server["_pending"] = None
            self._set_status(server, pending[1])

    def _schedule(
        self, server: dict[str, Any], status: str, task: str | None, then: str, delay: float
    ) -> None:
        self._set_status(server, status, task)
        server["_pending"] = (self._now() + delay, then)

    def _new_server(
        self,
        *,
        name: str,
        flavor: dict[str, Any],
        image_id: str,
        networks: list[dict[str, Any]],
        security_groups: list[str],
        metadata: dict[str, str],
        user_data: str | None = None,
    ) -> dict[str, Any]:
        server_id = str(uuid.uuid4())
        server: dict[str, Any] = {
            "id": server_id,
            "name": name,
            "status": "BUILD",
            "tenant_id": PROJECT_ID,
            "user_id": USER_ID,
            "metadata": dict(metadata),
            "hostId": "",
            "image": {"id": image_id, "links": []},
            "created": _timestamp(),
            "updated": _timestamp(),
            "addresses": {},
            "accessIPv4": "",
            "accessIPv6": "",
            "key_name": None,
            "security_groups": [{"name": g} for g in security_groups],
            "OS-EXT-AZ:availability_zone": "nova",
            "OS-DCF:diskConfig": "MANUAL",
            "progress": 0,
            "config_drive": "",
            "locked": False,
            "os-extended-volumes:volumes_attached": [],
            "links": [{"rel": "self", "href": f"{self.url}/compute/v2.1/servers/{server_id}"}],
            "_flavor": flavor,
            "_address": next(self._addresses) % 250 + 2,
            "_networks": networks,
            "_pending": None,
            "user_data": user_data,
        }
        self.servers[server_id] = server
        return server

    def server_view(self, server: dict[str, Any], microversion: tuple[int, int]) -> dict[str, Any]:
        """The server as Nova shows it at ``microversion`` (flavour embedded from 2.47)."""
        self._advance(server)
        view = {k: v for k, v in server.items() if not k.startswith("_") and k != "user_data"}
        if server["status"] != "ERROR":
            view.pop("fault", None)
        flavor = server["_flavor"]
        if microversion >= (2, 47):
            view["flavor"] = {
                "original_name": flavor["name"],
                "vcpus": flavor["vcpus"],
                "ram": flavor["ram"],
                "disk": flavor["disk"],
                "ephemeral": 0,
                "swap": 0,
                "extra_specs": flavor["extra_specs"],
            }
        else:
            view["flavor"] = {"id": flavor["id"], "links": []}
        if microversion >= (2, 3):
            view["OS-EXT-SRV-ATTR:user_data"] = server["user_data"]
        return view

    # -- routes -----------------------------------------------------------------------------

    def error_body(self, status: int, request: FakeRequest) -> Any:
        key = {500: "computeFault", 503: "serviceUnavailable"}.get(status, "error")
        return {key: {"code": status, "message": f"injected fault {status}"}}

    async def handle(self, request: FakeRequest) -> FakeResponse:
        path = request.path.rstrip("/")
        if path not in _OPEN_PATHS and not path.startswith("/identity/v3/auth/tokens"):
            token = request.headers.get("x-auth-token")
            expiry = self.tokens.get(token or "")
            if expiry is None or expiry <= datetime.now(UTC):
                self.requests.append(request)
                body = {
                    "error": {
                        "code": 401,
                        "message": "The request you have made requires authentication.",
                        "title": "Unauthorized",
                    }
                }
                return json_response(body, 401)
        return await super().handle(request)

    def _routes_installed(self) -> None:
        r = self.add_route
        r("GET", r"/identity", self._identity_versions)
        r("GET", r"/identity/v3", self._identity_v3)
        r("POST", r"/identity/v3/auth/tokens", self._issue_token)
        r("GET", r"/compute", self._compute_versions)
        r("GET", r"/compute/v2\.1", self._compute_v21)
        r("GET", r"/compute/v2\.1/flavors(?:/detail)?", self._list_flavors)
        r("GET", rf"/compute/v2\.1/flavors/{_ID}/os-extra_specs", self._flavor_extra_specs)
        r("GET", rf"/compute/v2\.1/flavors/{_ID}", self._get_flavor)
        r("POST", r"/compute/v2\.1/servers", self._create_server)
        r("GET", r"/compute/v2\.1/servers(?P<detail>/detail)?", self._list_servers)
        r("GET", rf"/compute/v2\.1/servers/{_ID}/os-security-groups", self._server_groups)
        r("POST", rf"/compute/v2\.1/servers/{_ID}/action", self._server_action)
        r("GET", rf"/compute/v2\.1/servers/{_ID}", self._get_server)
        r("DELETE", rf"/compute/v2\.1/servers/{_ID}", self._delete_server)
        r("GET", r"/compute/v2\.1/limits", self._limits)
        r("GET", r"/image", self._image_versions)
        r("GET", r"/image/v2/images", self._list_images)
        r("GET", rf"/image/v2/images/{_ID}", self._get_image)
        r("GET", r"/network", self._network_versions)
        r("GET", r"/network/v2\.0/security-groups", self._list_security_groups)
        r("GET", rf"/network/v2\.0/security-groups/{_ID}", self._get_security_group)
        r("GET", r"/network/v2\.0/networks", self._list_networks)

    # Keystone

    def _v3(self) -> dict[str, Any]:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.url}/identity/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    async def _identity_versions(self, request: FakeRequest) -> FakeResponse:
        return json_response({"versions": {"values": [self._v3()]}}, 300)

    async def _identity_v3(self, request: FakeRequest) -> FakeResponse:
        return json_response({"version": self._v3()})

    def _catalog(self) -> list[dict[str, Any]]:
        def service(kind: str, name: str, url: str) -> dict[str, Any]:
            return {
                "type": kind,
                "name": name,
                "id": uuid.uuid5(uuid.NAMESPACE_URL, url).hex,
                "endpoints": [
                    {
                        "id": uuid.uuid5(uuid.NAMESPACE_URL, url + i).hex,
                        "interface": i,
                        "region": "RegionOne",
                        "region_id": "RegionOne",
                        "url": url,
                    }
                    for i in ("public", "internal", "admin")
                ],
            }

        return [
            service("identity", "keystone", f"{self.url}/identity"),
            service("compute", "nova", f"{self.url}/compute/v2.1"),
            service("image", "glance", f"{self.url}/image"),
            service("network", "neutron", f"{self.url}/network"),
        ]

    async def _issue_token(self, request: FakeRequest) -> FakeResponse:
        body = request.json()
        try:
            identity = body["auth"]["identity"]
            methods = identity["methods"]
        except (KeyError, TypeError):
            raise BadRequest("expected auth.identity.methods") from None
        extra: dict[str, Any] = {}
        unauthorized = json_response(
            {"error": {"code": 401, "message": "Invalid credentials", "title": "Unauthorized"}},
            401,
        )
        if "password" in methods:
            user = identity["password"]["user"]
            domain = (user.get("domain") or {}).get("name") or (user.get("domain") or {}).get(
                "id", "Default"
            )
            domain = "Default" if domain.lower() == "default" else domain
            if self.users.get((user.get("name"), domain)) != user.get("password"):
                return unauthorized
        elif "application_credential" in methods:
            credential = identity["application_credential"]
            if self.application_credentials.get(credential.get("id")) != credential.get("secret"):
                return unauthorized
            extra["application_credential"] = {
                "id": credential["id"],
                "name": "visa",
                "restricted": True,
            }
        else:
            return unauthorized
        token = uuid.uuid4().hex
        issued = datetime.now(UTC)
        expires = issued + timedelta(seconds=self.token_lifetime)
        self.tokens[token] = expires
        document = {
            "methods": methods,
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "audit_ids": [uuid.uuid4().hex[:22]],
            "user": {
                "id": USER_ID,
                "name": "visa",
                "domain": {"id": "default", "name": "Default"},
                "password_expires_at": None,
            },
            "project": {
                "id": PROJECT_ID,
                "name": "visa",
                "domain": {"id": "default", "name": "Default"},
            },
            "roles": [{"id": "0" * 32, "name": "member"}],
            "is_domain": False,
            "catalog": self._catalog(),
            **extra,
        }
        return json_response({"token": document}, 201, **{"X-Subject-Token": token})

    # Nova

    def _nova_version(self) -> dict[str, Any]:
        return {
            "id": "v2.1",
            "status": "CURRENT",
            "version": NOVA_MAX_MICROVERSION,
            "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{self.url}/compute/v2.1/"}],
            "media-types": [
                {
                    "base": "application/json",
                    "type": "application/vnd.openstack.compute+json;version=2.1",
                }
            ],
        }

    async def _compute_versions(self, request: FakeRequest) -> FakeResponse:
        return json_response({"versions": [self._nova_version()]})

    async def _compute_v21(self, request: FakeRequest) -> FakeResponse:
        return json_response({"version": self._nova_version()})

    @staticmethod
    def microversion(request: FakeRequest) -> tuple[int, int]:
        """The compute microversion the request asks for (2.1 when none)."""
        header = request.headers.get("openstack-api-version", "")
        value = header.removeprefix("compute").strip() or request.headers.get(
            "x-openstack-nova-api-version", "2.1"
        )
        if value == "latest":
            value = NOVA_MAX_MICROVERSION
        try:
            major, minor = value.split(".")
            return int(major), int(minor)
        except ValueError:
            return (2, 1)

    def _flavor_view(self, flavor: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: v for k, v in flavor.items() if k != "extra_specs"},
            "OS-FLV-EXT-DATA:ephemeral": 0,
            "OS-FLV-DISABLED:disabled": False,
            "os-flavor-access:is_public": True,
            "swap": 0,
            "rxtx_factor": 1.0,
            "links": [{"rel": "self", "href": f"{self.url}/compute/v2.1/flavors/{flavor['id']}"}],
        }

    def _find_flavor(self, ref: str) -> dict[str, Any] | None:
        return next((f for f in self.flavors if ref in (f["id"], f["name"])), None)

    async def _list_flavors(self, request: FakeRequest) -> FakeResponse:
        return json_response({"flavors": [self._flavor_view(f) for f in self.flavors]})

    async def _get_flavor(self, request: FakeRequest, id: str) -> FakeResponse:
        flavor = self._find_flavor(id)
        if flavor is None:
            return _not_found(f"Flavor {id}")
        return json_response({"flavor": self._flavor_view(flavor)})

    async def _flavor_extra_specs(self, request: FakeRequest, id: str) -> FakeResponse:
        flavor = self._find_flavor(id)
        if flavor is None:
            return _not_found(f"Flavor {id}")
        return json_response({"extra_specs": flavor["extra_specs"]})

    async def _create_server(self, request: FakeRequest) -> FakeResponse:
        body = request.json()
        spec = body.get("server") if isinstance(body, dict) else None
        if not isinstance(spec, dict):
            return _bad_request("expected a server object")
        for key in ("name", "flavorRef", "imageRef"):
            if not spec.get(key):
                return _bad_request(f"missing {key}")
        flavor = self._find_flavor(spec["flavorRef"])
        if flavor is None:
            return _bad_request(f"Flavor {spec['flavorRef']} could not be found.")
        if not any(i["id"] == spec["imageRef"] for i in self.images):
            return _bad_request(f"Image {spec['imageRef']} could not be found.")
        if len(self.servers) >= self.limits["maxTotalInstances"]:
            return json_response(
                {"forbidden": {"code": 403, "message": "Quota exceeded for instances."}}, 403
            )
        groups = [g["name"] for g in spec.get("security_groups") or [{"name": "default"}]]
        known = {g["name"] for g in self.security_groups}
        for name in groups:
            if name not in known:
                return _bad_request(f"Security group {name} not found for project {PROJECT_ID}.")
        networks = []
        for entry in spec.get("networks") or []:
            network = next((n for n in self.networks if n["id"] == entry.get("uuid")), None)
            if network is None:
                return _bad_request(f"Network {entry.get('uuid')} could not be found.")
            networks.append(network)
        user_data = spec.get("user_data")
        if user_data is not None:
            try:
                base64.b64decode(user_data, validate=True)
            except (binascii.Error, ValueError):
                return _bad_request("User data needs to be valid base 64.")
        metadata = spec.get("metadata") or {}
        if not all(isinstance(v, str) for v in metadata.values()):
            return _bad_request("Invalid input for field/attribute metadata.")
        server = self._new_server(
            name=spec["name"],
            flavor=flavor,
            image_id=spec["imageRef"],
            networks=networks or [self.networks[0]],
            security_groups=groups,
            metadata=metadata,
            user_data=user_data,
        )
        outcome = "ERROR" if self.servers_go_to_error else "ACTIVE"
        self._schedule(server, "BUILD", "spawning", outcome, self.build_seconds)
        reply = {
            "id": server["id"],
            "links": server["links"],
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": server["security_groups"],
            "adminPass": "fake-admin-pass",
        }
        return json_response({"server": reply}, 202)

    def _get(self, server_id: str) -> dict[str, Any] | None:
        server = self.servers.get(server_id)
        if server is not None:
            self._advance(server)
        return server

    async def _list_servers(self, request: FakeRequest, detail: str | None) -> FakeResponse:
        try:
            limit = min(int(request.query.get("limit", self.page_size)), self.page_size)
        except ValueError:
            return _bad_request("limit must be an integer")
        servers = list(self.servers.values())
        if "name" in request.query:
            servers = [s for s in servers if request.query["name"] in s["name"]]
        marker = request.query.get("marker")
        if marker:
            ids = [s["id"] for s in servers]
            if marker not in ids:
                return _bad_request(f"marker [{marker}] not found")
            servers = servers[ids.index(marker) + 1 :]
        page = servers[:limit]
        version = self.microversion(request)
        if detail:
            items = [self.server_view(s, version) for s in page]
        else:
            items = [{"id": s["id"], "name": s["name"], "links": s["links"]} for s in page]
        body: dict[str, Any] = {"servers": items}
        if len(servers) > limit and page:
            query = {k: v for k, v in request.query.items() if k != "marker"}
            query.update(limit=str(limit), marker=page[-1]["id"])
            href = f"{self.url}{request.path}?{urlencode(query)}"
            body["servers_links"] = [{"rel": "next", "href": href}]
        return json_response(body)

    async def _get_server(self, request: FakeRequest, id: str) -> FakeResponse:
        server = self._get(id)
        if server is None:
            return _not_found(f"Instance {id}")
        return json_response({"server": self.server_view(server, self.microversion(request))})

    async def _delete_server(self, request: FakeRequest, id: str) -> FakeResponse:
        if self.servers.pop(id, None) is None:
            return _not_found(f"Instance {id}")
        return FakeResponse(204)

    async def _server_action(self, request: FakeRequest, id: str) -> FakeResponse:
        server = self._get(id)
        if server is None:
            return _not_found(f"Instance {id}")
        body = request.json()
        if not isinstance(body, dict) or len(body) != 1:
            return _bad_request("expected one action")
        ((action, argument),) = body.items()
        status, task = server["status"], server["OS-EXT-STS:task_state"]
        delay = self.transition_seconds
        if action == "os-stop":
            if status != "ACTIVE" or task:
                return _conflict(f"Cannot 'stop' instance {id} while it is in vm_state {status}")
            self._schedule(server, "ACTIVE", "powering-off", "SHUTOFF", delay)
        elif action == "os-start":
            if status != "SHUTOFF" or task:
                return _conflict(f"Cannot 'start' instance {id} while it is in vm_state {status}")
            self._schedule(server, "SHUTOFF", "powering-on", "ACTIVE", delay)
        elif action == "reboot":
            if status not in ("ACTIVE", "SHUTOFF", "ERROR") or task:
                return _conflict(f"Cannot 'reboot' instance {id} while it is in {status}")
            hard = (argument or {}).get("type", "SOFT").upper() == "HARD"
            self._schedule(server, "HARD_REBOOT" if hard else "REBOOT", None, "ACTIVE", delay)
        elif action == "addSecurityGroup":
            name = (argument or {}).get("name")
            if not any(g["name"] == name for g in self.security_groups):
                return _not_found(f"Security group {name}")
            if {"name": name} not in server["security_groups"]:
                server["security_groups"].append({"name": name})
        elif action == "removeSecurityGroup":
            name = (argument or {}).get("name")
            if {"name": name} not in server["security_groups"]:
                return _bad_request(f"Security group {name} not associated with the instance")
            server["security_groups"].remove({"name": name})
        else:
            return _bad_request(f"unsupported action {action}")
        return FakeResponse(202)

    async def _server_groups(self, request: FakeRequest, id: str) -> FakeResponse:
        server = self._get(id)
        if server is None:
            return _not_found(f"Instance {id}")
        names = [g["name"] for g in server["security_groups"]]
        groups = [
            {
                "id": g["id"],
                "name": g["name"],
                "description": g["description"],
                "tenant_id": PROJECT_ID,
                "rules": [],
            }
            for g in self.security_groups
            if g["name"] in names
        ]
        return json_response({"security_groups": groups})

    async def _limits(self, request: FakeRequest) -> FakeResponse:
        flavors = [s["_flavor"] for s in self.servers.values()]
        absolute = {
            **self.limits,
            "totalCoresUsed": sum(f["vcpus"] for f in flavors),
            "totalRAMUsed": sum(f["ram"] for f in flavors),
            "totalInstancesUsed": len(flavors),
            "maxServerMeta": 128,
            "maxSecurityGroups": 10,
            "totalSecurityGroupsUsed": 0,
        }
        return json_response({"limits": {"absolute": absolute, "rate": []}})

    # Glance

    async def _image_versions(self, request: FakeRequest) -> FakeResponse:
        versions = [
            {
                "id": "v2.16",
                "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{self.url}/image/v2/"}],
            }
        ]
        return json_response({"versions": versions}, 300)

    async def _list_images(self, request: FakeRequest) -> FakeResponse:
        try:
            limit = min(int(request.query.get("limit", self.image_page_size)), 1000)
        except ValueError:
            return _bad_request("limit must be an integer")
        images = self.images
        marker = request.query.get("marker")
        if marker:
            ids = [i["id"] for i in images]
            if marker not in ids:
                return _bad_request(f"marker {marker} not found")
            images = images[ids.index(marker) + 1 :]
        page = images[:limit]
        body: dict[str, Any] = {
            "images": page,
            "first": "/v2/images",
            "schema": "/v2/schemas/images",
        }
        if len(images) > limit:
            body["next"] = f"/v2/images?{urlencode({'limit': limit, 'marker': page[-1]['id']})}"
        return json_response(body)

    async def _get_image(self, request: FakeRequest, id: str) -> FakeResponse:
        image = next((i for i in self.images if i["id"] == id), None)
        if image is None:
            return FakeResponse(404, b"404 Not Found\n\nNo image found with ID " + id.encode())
        return json_response(image)

    # Neutron

    async def _network_versions(self, request: FakeRequest) -> FakeResponse:
        versions = [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{self.url}/network/v2.0/"}],
            }
        ]
        return json_response({"versions": versions})

    async def _list_security_groups(self, request: FakeRequest) -> FakeResponse:
        groups = self.security_groups
        if "name" in request.query:
            groups = [g for g in groups if g["name"] == request.query["name"]]
        fields = request.query.get("fields")
        if fields:
            groups = [{k: v for k, v in g.items() if k in fields.split(",")} for g in groups]
        return json_response({"security_groups": groups})

    async def _get_security_group(self, request: FakeRequest, id: str) -> FakeResponse:
        group = next((g for g in self.security_groups if g["id"] == id), None)
        if group is None:
            body = {"NeutronError": {"type": "SecurityGroupNotFound", "message": id, "detail": ""}}
            return json_response(body, 404)
        return json_response({"security_group": group})

    async def _list_networks(self, request: FakeRequest) -> FakeResponse:
        networks = [
            {**n, "status": "ACTIVE", "subnets": [], "project_id": PROJECT_ID, "shared": False}
            for n in self.networks
        ]
        return json_response({"networks": networks})


__all__ = ["PROJECT_ID", "FakeOpenStack"]
