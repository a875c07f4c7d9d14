"""A fake of VISA's web cloud provider HTTP contract (spec §3.4), like the Proxmox provider.

Every request must carry ``X-Auth-Token: <auth_token>`` (401 otherwise). Instances move through
CloudInstanceState names over time (BUILDING -> ACTIVE, STOPPING -> STOPPED, STARTING ->
ACTIVE, REBOOTING -> ACTIVE); errors follow the Proxmox provider: 404 ``{"message": "Not
found"}``, 400 ``{"error": ...}``. Switches: ``servers_go_to_error``, ``build_seconds``,
``transition_seconds``, ``max_instances``, and the generic faults of
:class:`~visa_platform.testing.fakehttp.FakeHttpServer`.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any

from visa_platform.testing.fakehttp import (
    FakeHttpServer,
    FakeRequest,
    FakeResponse,
    Handler,
    json_response,
)

_ID = r"(?P<id>[^/]+)"


def _not_found() -> FakeResponse:
    return json_response({"message": "Not found"}, 404)


def _bad(message: str) -> FakeResponse:
    return json_response({"error": message}, 400)


class FakeWebCloud(FakeHttpServer):
    """One web-provider cloud with images, flavours, security groups and instances."""

    def __init__(
        self,
        *,
        auth_token: str = "web-provider-token",
        build_seconds: float = 0.1,
        transition_seconds: float = 0.05,
    ) -> None:
        super().__init__()
        self.auth_token = auth_token
        self.build_seconds = build_seconds
        self.transition_seconds = transition_seconds
        self.servers_go_to_error = False
        self.max_instances = 20
        self.images: list[dict[str, Any]] = [
            {"id": "100", "name": "visa-desktop", "size": 10737418240},
            {"id": "101", "name": "visa-jupyter", "size": 5368709120},
        ]
        self.flavours: list[dict[str, Any]] = [
            {"id": "small", "name": "Small", "cpus": 2, "disk": 20, "ram": 4096},
            {"id": "large", "name": "Large", "cpus": 8, "disk": 100, "ram": 32768},
        ]
        self.security_groups: list[str] = ["default", "visa-rdp", "visa-ssh"]
        self.instances: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(200)
        routes: list[tuple[str, str, Handler]] = [
            ("GET", r"/api/images", self._images),
            ("GET", rf"/api/images/{_ID}", self._image),
            ("GET", r"/api/flavours", self._flavours),
            ("GET", rf"/api/flavours/{_ID}", self._flavour),
            ("GET", r"/api/instances", self._list),
            ("GET", r"/api/instances/identifiers", self._identifiers),
            ("POST", r"/api/instances", self._create),
            ("GET", rf"/api/instances/{_ID}", self._get),
            ("DELETE", rf"/api/instances/{_ID}", self._delete),
            ("POST", rf"/api/instances/{_ID}/(?P<action>reboot|shutdown|start)", self._action),
            ("GET", rf"/api/instances/{_ID}/security_groups", self._groups),
            ("POST", rf"/api/instances/{_ID}/security_groups", self._add_group),
            ("POST", rf"/api/instances/{_ID}/security_groups/remove", self._remove_group),
            ("GET", r"/api/metrics", self._metrics),
            ("GET", r"/api/security_groups", self._all_groups),
        ]
        for method, pattern, handler in routes:
            self.add_route(method, pattern, handler)

    def parameters(self) -> dict[str, str]:
        """``cloud_provider_configuration`` parameters for this cloud."""
        return {"url": self.url, "authToken": self.auth_token}

    async def handle(self, request: FakeRequest) -> FakeResponse:
        if request.headers.get("x-auth-token") != self.auth_token:
            self.requests.append(request)
            return json_response({"message": "Unauthorized"}, 401)
        return await super().handle(request)

    # -- state ------------------------------------------------------------------------------

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _advance(self, instance: dict[str, Any]) -> dict[str, Any]:
        pending = instance.get("_pending")
        if pending and self._now() >= pending[0]:
            instance["state"] = pending[1]
            instance["_pending"] = None
            if pending[1] == "ERROR":
                instance["fault"] = {
                    "message": "clone failed",
                    "code": 500,
                    "details": "template locked",
                    "created": datetime.now(UTC).isoformat(),
                }
            if pending[1] == "ACTIVE":
                instance["address"] = f"127.0.1.{instance['_n'] % 250 + 2}"
        return instance

    def _schedule(self, instance: dict[str, Any], now: str, then: str, delay: float) -> None:
        instance["state"] = now
        instance["_pending"] = (self._now() + delay, then)

    def _view(self, instance: dict[str, Any]) -> dict[str, Any]:
        self._advance(instance)
        return {k: v for k, v in instance.items() if not k.startswith("_")}

    def _find(self, instance_id: str) -> dict[str, Any] | None:
        return self.instances.get(instance_id)

    # -- handlers ---------------------------------------------------------------------------

    async def _images(self, request: FakeRequest) -> FakeResponse:
        return json_response(self.images)

    async def _image(self, request: FakeRequest, id: str) -> FakeResponse:
        image = next((i for i in self.images if i["id"] == id), None)
        return json_response(image) if image else _not_found()

    async def _flavours(self, request: FakeRequest) -> FakeResponse:
        return json_response(self.flavours)

    async def _flavour(self, request: FakeRequest, id: str) -> FakeResponse:
        flavour = next((f for f in self.flavours if f["id"] == id), None)
        return json_response(flavour) if flavour else _not_found()

    async def _list(self, request: FakeRequest) -> FakeResponse:
        return json_response([self._view(i) for i in self.instances.values()])

    async def _identifiers(self, request: FakeRequest) -> FakeResponse:
        return json_response([{"id": i["id"], "name": i["name"]} for i in self.instances.values()])

    async def _create(self, request: FakeRequest) -> FakeResponse:
        body = request.json()
        if not isinstance(body, dict):
            return _bad("expected an object")
        for key in ("name", "imageId", "flavourId"):
            if not isinstance(body.get(key), str):
                return _bad(f"{key} is required")
        if not any(i["id"] == body["imageId"] for i in self.images):
            return _bad(f"unknown image {body['imageId']}")
        if not any(f["id"] == body["flavourId"] for f in self.flavours):
            return _bad(f"unknown flavour {body['flavourId']}")
        groups = body.get("securityGroups") or []
        if any(g not in self.security_groups for g in groups):
            return _bad("unknown security group")
        if len(self.instances) >= self.max_instances:
            return _bad("no capacity left")
        n = next(self._ids)
        instance: dict[str, Any] = {
            "id": str(n),
            "name": body["name"],
            "state": "BUILDING",
            "address": None,
            "imageId": body["imageId"],
            "flavourId": body["flavourId"],
            "createdAt": datetime.now(UTC).isoformat(),
            "securityGroups": list(groups),
            "metadata": dict(body.get("metadata") or {}),
            "_boot_command": body.get("bootCommand"),
            "_n": n,
            "_pending": None,
        }
        outcome = "ERROR" if self.servers_go_to_error else "ACTIVE"
        self._schedule(instance, "BUILDING", outcome, self.build_seconds)
        self.instances[instance["id"]] = instance
        return json_response({"id": instance["id"]}, 201)

    async def _get(self, request: FakeRequest, id: str) -> FakeResponse:
        instance = self._find(id)
        return json_response(self._view(instance)) if instance else _not_found()

    async def _delete(self, request: FakeRequest, id: str) -> FakeResponse:
        if self.instances.pop(id, None) is None:
            return _not_found()
        return FakeResponse(204)

    async def _action(self, request: FakeRequest, id: str, action: str) -> FakeResponse:
        instance = self._find(id)
        if instance is None:
            return _not_found()
        state = self._advance(instance)["state"]
        delay = self.transition_seconds
        if action == "shutdown" and state == "ACTIVE":
            self._schedule(instance, "STOPPING", "STOPPED", delay)
        elif action == "start" and state == "STOPPED":
            self._schedule(instance, "STARTING", "ACTIVE", delay)
        elif action == "reboot" and state in ("ACTIVE", "STOPPED", "ERROR"):
            self._schedule(instance, "REBOOTING", "ACTIVE", delay)
        else:
            return _bad(f"cannot {action} an instance in state {state}")
        return FakeResponse(200, {})

    async def _groups(self, request: FakeRequest, id: str) -> FakeResponse:
        instance = self._find(id)
        return json_response(instance["securityGroups"]) if instance else _not_found()

    async def _add_group(self, request: FakeRequest, id: str) -> FakeResponse:
        instance = self._find(id)
        if instance is None:
            return _not_found()
        name = (request.json() or {}).get("name")
        if name not in self.security_groups:
            return _bad(f"unknown security group {name}")
        if name not in instance["securityGroups"]:
            instance["securityGroups"].append(name)
        return FakeResponse(200, {})

    async def _remove_group(self, request: FakeRequest, id: str) -> FakeResponse:
        instance = self._find(id)
        if instance is None:
            return _not_found()
        name = (request.json() or {}).get("name")
        if name in instance["securityGroups"]:
            instance["securityGroups"].remove(name)
        return FakeResponse(200, {})

    async def _metrics(self, request: FakeRequest) -> FakeResponse:
        flavours = {f["id"]: f for f in self.flavours}
        used = [flavours[i["flavourId"]] for i in self.instances.values()]
        return json_response(
            {
                "maxTotalRamSize": 262144,
                "totalRamUsed": sum(f["ram"] for f in used),
                "totalInstancesUsed": len(used),
                "maxTotalInstances": self.max_instances,
                "maxTotalCores": 64,
                "totalCoresUsed": sum(f["cpus"] for f in used),
            }
        )

    async def _all_groups(self, request: FakeRequest) -> FakeResponse:
        return json_response(self.security_groups)


__all__ = ["FakeWebCloud"]
