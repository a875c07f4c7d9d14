"""A fake Kubernetes API server (core/v1 and networking.k8s.io/v1 subsets) for client tests.

Realistic enough for the official ``kubernetes`` clients (sync and ``kubernetes.aio``), which
validate answers strictly: objects get uid, resourceVersion and creationTimestamp; lists and
watches honour label and field selectors; errors are ``Status`` bodies (404 NotFound, 409
AlreadyExists, 422 Invalid, 403 Forbidden on an exceeded ResourceQuota).

Kinds: namespaces (cluster-scoped), pods, services, secrets, configmaps,
persistentvolumeclaims, resourcequotas, events, networkpolicies. Create, get, list, watch,
merge-patch, replace, delete (pods terminate gracefully: ``deletionTimestamp`` first, gone
``termination_seconds`` later unless ``gracePeriodSeconds=0``).

Watches stream ``ADDED``/``MODIFIED``/``DELETED`` events from a ``resourceVersion``; a version
older than the kept history answers an ``ERROR`` event with a 410 ``Expired`` Status, as the real
server does. A simulated kubelet moves each new pod to Running (``pod_ip``, Ready conditions,
running container states) after ``kubelet_seconds``, or into an image-pull failure when
``pods_fail`` is set or its image is in ``failing_images``.

Switches besides the generic faults of :class:`~visa_platform.testing.fakehttp.FakeHttpServer`:
``drop_watches()`` ends every open watch stream (clients must reconnect), ``compact()`` forgets
the event history (a later watch from an old version gets 410), ``pods_fail``,
``kubelet_seconds``, ``termination_seconds``.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from visa_platform.testing.fakehttp import (
    FakeHttpServer,
    FakeRequest,
    FakeResponse,
    json_response,
)


@dataclass(frozen=True)
class Kind:
    """One resource type the fake serves."""

    plural: str
    kind: str
    group_version: str = "v1"
    namespaced: bool = True


KINDS: dict[str, Kind] = {
    k.plural: k
    for k in (
        Kind("namespaces", "Namespace", namespaced=False),
        Kind("pods", "Pod"),
        Kind("services", "Service"),
        Kind("secrets", "Secret"),
        Kind("configmaps", "ConfigMap"),
        Kind("persistentvolumeclaims", "PersistentVolumeClaim"),
        Kind("resourcequotas", "ResourceQuota"),
        Kind("events", "Event"),
        Kind("networkpolicies", "NetworkPolicy", "networking.k8s.io/v1"),
    )
}

_SUFFIXES: dict[str, Decimal] = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
}


def parse_quantity(value: object) -> Decimal:
    """A Kubernetes quantity (``500m``, ``4Gi``, ``2``) as a number; ``ValueError`` if invalid."""
    text = str(value).strip()
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text)
    if not match or (match.group(2) and match.group(2) not in _SUFFIXES):
        raise ValueError(f"invalid quantity {text!r}")
    return Decimal(match.group(1)) * _SUFFIXES.get(match.group(2), Decimal(1))


def format_quantity(value: Decimal) -> str:
    """A number as a plain quantity (millicores when fractional)."""
    if value == value.to_integral_value():
        return str(int(value))
    return f"{int(value * 1000)}m"


def _split_terms(selector: str) -> list[str]:
    """Split a selector on the commas that are not inside ``in (a, b)`` parentheses."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    terms.append(current.strip())
    return [t for t in terms if t]


def matches_labels(labels: Mapping[str, str], selector: str | None) -> bool:
    """True when ``labels`` satisfy a label selector (=, ==, !=, in, notin, key, !key)."""
    for term in _split_terms(selector or ""):
        set_match = re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term)
        if set_match:
            key, op, values = set_match.groups()
            wanted = {v.strip() for v in values.split(",")}
            ok = labels.get(key) in wanted if op == "in" else labels.get(key) not in wanted
        elif "!=" in term:
            key, value = (p.strip() for p in term.split("!=", 1))
            ok = labels.get(key) != value
        elif "=" in term:
            key, value = (p.strip() for p in term.replace("==", "=").split("=", 1))
            ok = labels.get(key) == value
        elif term.startswith("!"):
            ok = term[1:].strip() not in labels
        else:
            ok = term in labels
        if not ok:
            return False
    return True


def matches_fields(obj: Mapping[str, Any], selector: str | None) -> bool:
    """True when ``obj`` satisfies a field selector (``metadata.name=x,status.phase!=Failed``)."""
    for term in _split_terms(selector or ""):
        negate = "!=" in term
        key, value = (p.strip() for p in term.replace("!=", "=").replace("==", "=").split("=", 1))
        current: Any = obj
        for part in key.split("."):
            current = current.get(part) if isinstance(current, Mapping) else None
        if (str(current) == value) == negate:
            return False
    return True


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """JSON merge patch (RFC 7386)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


Key = tuple[str, str, str]  # (plural, namespace or "", name)


class FakeKubernetes(FakeHttpServer):
    """One fake cluster. ``namespaces`` are created at start; ``quota`` is a ResourceQuota's
    ``spec.hard`` created in each of them (``None``: no quota)."""

    def __init__(
        self,
        *,
        namespaces: tuple[str, ...] = ("default", "visa"),
        quota: Mapping[str, str] | None = None,
        kubelet_seconds: float = 0.1,
        termination_seconds: float = 0.05,
        pod_ip: str = "127.0.0.1",
        history: int = 10_000,
    ) -> None:
        super().__init__()
        self.objects: dict[Key, dict[str, Any]] = {}
        self.kubelet_seconds = kubelet_seconds
        self.termination_seconds = termination_seconds
        self.pod_ip = pod_ip
        self.pods_fail = False
        self.failing_images: set[str] = set()
        self._history: list[tuple[int, str, dict[str, Any]]] = []
        self._history_size = history
        self._oldest_kept = 0
        self._versions = itertools.count(1000)
        self._ips = itertools.count(10)
        self._node_ports = itertools.count(30000)
        self._watchers: list[tuple[str, asyncio.Queue[dict[str, Any] | None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        for namespace in namespaces:
            self.put("namespaces", "", {"metadata": {"name": namespace}})
            if quota is not None:
                self.put(
                    "resourcequotas",
                    namespace,
                    {"metadata": {"name": "visa-quota"}, "spec": {"hard": dict(quota)}},
                )
        self.add_route("GET", r"/version", self._version)
        self.add_route("GET", r"/api", self._api_versions)
        self.add_route("GET", r"/apis", self._api_groups)
        self.add_route("GET", r"/api/v1", self._resources("v1"))
        self.add_route(
            "GET", r"/apis/networking.k8s.io/v1", self._resources("networking.k8s.io/v1")
        )
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            self.add_route(method, r"/api/v1/(?P<rest>.+)", self._core)
            self.add_route(method, r"/apis/networking.k8s.io/v1/(?P<rest>.+)", self._core)

    # -- store ------------------------------------------------------------------------------

    def _version_next(self) -> str:
        return str(next(self._versions))

    def _record(self, event: str, plural: str, obj: dict[str, Any]) -> None:
        """Keep ``event`` in the history and hand it to the open watches."""
        version = int(obj["metadata"]["resourceVersion"])
        snapshot = copy.deepcopy(obj)
        self._history.append((version, event, snapshot))
        if len(self._history) > self._history_size:
            dropped = self._history.pop(0)
            self._oldest_kept = dropped[0]
        for watched, queue in self._watchers:
            if watched == plural:
                queue.put_nowait({"type": event, "object": snapshot, "plural": plural})

    def put(self, plural: str, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create ``obj`` as the API server would (no validation); returns the stored object."""
        kind = KINDS[plural]
        metadata = obj.setdefault("metadata", {})
        obj["kind"], obj["apiVersion"] = kind.kind, kind.group_version
        if kind.namespaced:
            metadata["namespace"] = namespace
        metadata.update(
            uid=str(uuid.uuid4()), creationTimestamp=_now(), resourceVersion=self._version_next()
        )
        self._defaults(plural, obj)
        self.objects[(plural, namespace if kind.namespaced else "", metadata["name"])] = obj
        self._record("ADDED", plural, obj)
        return obj

    def modify(self, plural: str, obj: dict[str, Any]) -> None:
        """Bump the version of a changed object and tell the watches."""
        obj["metadata"]["resourceVersion"] = self._version_next()
        self._record("MODIFIED", plural, obj)

    def remove(self, key: Key) -> dict[str, Any] | None:
        obj = self.objects.pop(key, None)
        if obj is not None:
            obj["metadata"]["resourceVersion"] = self._version_next()
            self._record("DELETED", key[0], obj)
        return obj

    def objects_of(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of a kind (in ``namespace``, or all)."""
        return [
            o
            for (p, n, _), o in self.objects.items()
            if p == plural and (namespace is None or n == namespace)
        ]

    def _defaults(self, plural: str, obj: dict[str, Any]) -> None:
        spec = obj.setdefault("spec", {}) if plural not in ("secrets", "configmaps") else {}
        if plural == "pods":
            obj.setdefault("status", {"phase": "Pending", "qosClass": "Burstable"})
            spec.setdefault("nodeName", "fake-node")
            spec.setdefault("restartPolicy", "Always")
        elif plural == "services":
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("clusterIP", f"10.96.{next(self._ips) // 250}.{next(self._ips) % 250}")
            for port in spec.get("ports") or []:
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
                if spec["type"] in ("NodePort", "LoadBalancer"):
                    port.setdefault("nodePort", next(self._node_ports))
            obj.setdefault("status", {"loadBalancer": {}})
        elif plural == "namespaces":
            obj.setdefault("status", {"phase": "Active"})
        elif plural == "secrets":
            encoded = {
                k: base64.b64encode(str(v).encode()).decode()
                for k, v in (obj.pop("stringData", None) or {}).items()
            }
            obj["data"] = {**(obj.get("data") or {}), **encoded}
            obj.setdefault("type", "Opaque")
        elif plural == "persistentvolumeclaims":
            obj.setdefault("status", {"phase": "Bound"})

    def quota_status(self, namespace: str, hard: Mapping[str, str]) -> dict[str, Any]:
        """``status`` of a ResourceQuota: its hard limits and what the namespace's pods use."""
        pods = [
            p for p in self.objects_of("pods", namespace) if p["status"].get("phase") != "Failed"
        ]
        used: dict[str, str] = {}
        for key in hard:
            if key in ("pods", "count/pods"):
                used[key] = str(len(pods))
                continue
            if key == "persistentvolumeclaims":
                used[key] = str(len(self.objects_of("persistentvolumeclaims", namespace)))
                continue
            section, _, resource = key.rpartition(".")
            field = "limits" if section == "limits" else "requests"
            total = Decimal(0)
            for pod in pods:
                for container in pod["spec"].get("containers") or []:
                    amount = ((container.get("resources") or {}).get(field) or {}).get(resource)
                    if amount is not None:
                        total += parse_quantity(amount)
            used[key] = format_quantity(total)
        return {"hard": dict(hard), "used": used}

    # -- the kubelet ------------------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _kubelet(self, key: Key, uid: str) -> None:
        await asyncio.sleep(self.kubelet_seconds)
        pod = self.objects.get(key)
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
            return
        containers = pod["spec"].get("containers") or []
        failing = self.pods_fail or any(c.get("image") in self.failing_images for c in containers)
        now = _now()

        def container_status(container: Mapping[str, Any]) -> dict[str, Any]:
            state: dict[str, Any] = (
                {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
                if failing
                else {"running": {"startedAt": now}}
            )
            return {
                "name": container["name"],
                "image": container.get("image", ""),
                "imageID": "" if failing else f"fake://{container.get('image', '')}",
                "ready": not failing,
                "restartCount": 0,
                "started": not failing,
                "state": state,
            }

        ready = "False" if failing else "True"
        pod["status"] = {
            "phase": "Pending" if failing else "Running",
            "podIP": self.pod_ip,
            "podIPs": [{"ip": self.pod_ip}],
            "hostIP": "127.0.0.1",
            "startTime": now,
            "qosClass": pod["status"].get("qosClass", "Burstable"),
            "conditions": [
                {"type": t, "status": s, "lastTransitionTime": now}
                for t, s in (
                    ("PodScheduled", "True"),
                    ("Initialized", "True"),
                    ("ContainersReady", ready),
                    ("Ready", ready),
                )
            ],
            "containerStatuses": [container_status(c) for c in containers],
        }
        self.modify("pods", pod)

    async def _terminate(self, key: Key, uid: str) -> None:
        await asyncio.sleep(self.termination_seconds)
        pod = self.objects.get(key)
        if pod is not None and pod["metadata"]["uid"] == uid:
            self.remove(key)

    # -- HTTP -------------------------------------------------------------------------------

    def error_body(self, status: int, request: FakeRequest) -> Any:
        reasons = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "NotFound",
            409: "Conflict",
            422: "Invalid",
            429: "TooManyRequests",
        }
        return _status_body(status, reasons.get(status, "InternalError"), f"injected {status}")

    async def _version(self, request: FakeRequest) -> FakeResponse:
        return json_response(
            {
                "major": "1",
                "minor": "30",
                "gitVersion": "v1.30.0-fake",
                "gitCommit": "0" * 40,
                "gitTreeState": "clean",
                "buildDate": "2024-04-17T00:00:00Z",
                "goVersion": "go1.22.2",
                "compiler": "gc",
                "platform": "linux/amd64",
            }
        )

    async def _api_versions(self, request: FakeRequest) -> FakeResponse:
        return json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.host}:{self.port}"}
                ],
            }
        )

    async def _api_groups(self, request: FakeRequest) -> FakeResponse:
        version = {"groupVersion": "networking.k8s.io/v1", "version": "v1"}
        group = {"name": "networking.k8s.io", "versions": [version], "preferredVersion": version}
        return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]})

    def _resources(self, group_version: str) -> Any:
        async def handler(request: FakeRequest) -> FakeResponse:
            resources = [
                {
                    "name": k.plural,
                    "singularName": k.kind.lower(),
                    "namespaced": k.namespaced,
                    "kind": k.kind,
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                }
                for k in KINDS.values()
                if k.group_version == group_version
            ]
            return json_response(
                {"kind": "APIResourceList", "groupVersion": group_version, "resources": resources}
            )

        return handler

    async def _core(self, request: FakeRequest, rest: str) -> FakeResponse:
        group_version = "v1" if request.path.startswith("/api/v1/") else "networking.k8s.io/v1"
        parts = rest.strip("/").split("/")
        namespace = ""
        if len(parts) >= 3 and parts[0] == "namespaces":
            namespace, parts = parts[1], parts[2:]
        plural, name = parts[0], (parts[1] if len(parts) > 1 else None)
        sub = parts[2] if len(parts) > 2 else None
        kind = KINDS.get(plural)
        if kind is None or kind.group_version != group_version or len(parts) > 3:
            return _not_found_path()
        if not kind.namespaced and namespace:
            return _not_found_path()
        missing = ("namespaces", "", namespace) not in self.objects
        if kind.namespaced and namespace and missing and (request.method == "POST" or name):
            return _status(404, "NotFound", f'namespaces "{namespace}" not found')
        if name is None:
            if request.method == "GET":
                if request.query.get("watch") in ("true", "1"):
                    return self._watch(request, kind, namespace or None)
                return self._list(request, kind, namespace or None)
            if request.method == "POST":
                return self._create(request, kind, namespace)
            return _status(405, "MethodNotAllowed", f"{request.method} on a collection")
        key: Key = (plural, namespace, name)
        obj = self.objects.get(key)
        if obj is None:
            return _status(404, "NotFound", f'{plural} "{name}" not found', kind=plural, name=name)
        if request.method == "GET":
            return json_response(self._view(obj))
        if request.method in ("PATCH", "PUT"):
            return self._update(request, kind, obj, sub)
        if request.method == "DELETE":
            return self._delete(request, key, obj)
        return _status(405, "MethodNotAllowed", request.method)

    def _view(self, obj: dict[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(obj)
        if view["kind"] == "ResourceQuota":
            hard = (view.get("spec") or {}).get("hard") or {}
            view["status"] = self.quota_status(view["metadata"]["namespace"], hard)
        return view

    def _list(self, request: FakeRequest, kind: Kind, namespace: str | None) -> FakeResponse:
        labels, fields = request.query.get("labelSelector"), request.query.get("fieldSelector")
        items = [
            self._view(o)
            for o in self.objects_of(kind.plural, namespace)
            if matches_labels(o["metadata"].get("labels") or {}, labels)
            and matches_fields(o, fields)
        ]
        return json_response(
            {
                "kind": f"{kind.kind}List",
                "apiVersion": kind.group_version,
                "metadata": {"resourceVersion": self._current_version()},
                "items": items,
            }
        )

    def _current_version(self) -> str:
        return str(self._history[-1][0]) if self._history else "1000"

    def _create(self, request: FakeRequest, kind: Kind, namespace: str) -> FakeResponse:
        obj = request.json()
        if not isinstance(obj, dict):
            return _status(400, "BadRequest", "the body must be an object")
        metadata = obj.setdefault("metadata", {})
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + uuid.uuid4().hex[:5]
        name = metadata.get("name")
        if not name or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", str(name)):
            return _status(422, "Invalid", f'{kind.kind} "{name or ""}" is invalid: metadata.name')
        key: Key = (kind.plural, namespace, name)
        if key in self.objects:
            return _status(
                409,
                "AlreadyExists",
                f'{kind.plural} "{name}" already exists',
                kind=kind.plural,
                name=name,
            )
        if kind.plural == "pods":
            problem = self._pod_problem(obj, namespace)
            if problem is not None:
                return problem
        stored = self.put(kind.plural, namespace, obj)
        if kind.plural == "pods":
            self._spawn(self._kubelet(key, stored["metadata"]["uid"]))
        return json_response(self._view(stored), 201)

    def _pod_problem(self, pod: Mapping[str, Any], namespace: str) -> FakeResponse | None:
        containers = (pod.get("spec") or {}).get("containers") or []
        name = pod["metadata"]["name"]
        if not containers or any(not c.get("name") or not c.get("image") for c in containers):
            return _status(
                422, "Invalid", f'Pod "{name}" is invalid: spec.containers: name and image'
            )
        try:
            for container in containers:
                for section in ((container.get("resources") or {}).values()) or []:
                    for amount in (section or {}).values():
                        parse_quantity(amount)
        except ValueError as exc:
            return _status(422, "Invalid", f'Pod "{name}" is invalid: {exc}')
        for quota in self.objects_of("resourcequotas", namespace):
            hard = (quota.get("spec") or {}).get("hard") or {}
            limit = hard.get("pods") or hard.get("count/pods")
            if limit is not None:
                live = [
                    p
                    for p in self.objects_of("pods", namespace)
                    if p["status"].get("phase") != "Failed"
                ]
                if len(live) + 1 > parse_quantity(limit):
                    return _status(
                        403,
                        "Forbidden",
                        f'pods "{name}" is forbidden: exceeded quota: '
                        f"{quota['metadata']['name']}, requested: pods=1, limited: pods={limit}",
                    )
        return None

    def _update(
        self, request: FakeRequest, kind: Kind, obj: dict[str, Any], sub: str | None
    ) -> FakeResponse:
        body = request.json()
        if not isinstance(body, dict):
            return _status(415, "UnsupportedMediaType", "only merge patches are supported")
        if sub == "status":
            body = {"status": body.get("status") or {}}
        elif sub is not None:
            return _not_found_path()
        if request.method == "PUT":
            metadata = obj["metadata"]
            keep = {
                k: metadata[k] for k in ("uid", "creationTimestamp", "namespace") if k in metadata
            }
            obj.clear()
            obj.update(copy.deepcopy(body))
            obj.setdefault("metadata", {}).update(keep)
            obj["kind"], obj["apiVersion"] = kind.kind, kind.group_version
        else:
            _merge(obj, body)
        self.modify(kind.plural, obj)
        return json_response(self._view(obj))

    def _delete(self, request: FakeRequest, key: Key, obj: dict[str, Any]) -> FakeResponse:
        grace = request.query.get("gracePeriodSeconds")
        if request.body:
            options = request.json()
            if isinstance(options, dict) and options.get("gracePeriodSeconds") is not None:
                grace = str(options["gracePeriodSeconds"])
        if key[0] == "pods" and grace != "0" and self.termination_seconds > 0:
            if not obj["metadata"].get("deletionTimestamp"):
                obj["metadata"]["deletionTimestamp"] = _now()
                obj["metadata"]["deletionGracePeriodSeconds"] = 30
                self.modify("pods", obj)
                self._spawn(self._terminate(key, obj["metadata"]["uid"]))
            return json_response(self._view(obj))
        self.remove(key)
        if key[0] == "namespaces":
            for inner in [k for k in self.objects if k[1] == key[2]]:
                self.remove(inner)
        return json_response(_status_body(200, "", "deleted", status="Success"))

    # -- watch ------------------------------------------------------------------------------

    def _watch(self, request: FakeRequest, kind: Kind, namespace: str | None) -> FakeResponse:
        labels, fields = request.query.get("labelSelector"), request.query.get("fieldSelector")
        timeout = float(request.query.get("timeoutSeconds") or 1800)
        since = request.query.get("resourceVersion")
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        replay: list[dict[str, Any]] = []
        if since and since != "0":
            if int(since) < self._oldest_kept:
                expired = _status_body(410, "Expired", f"too old resource version: {since}")
                replay.append({"type": "ERROR", "object": expired})
            else:
                replay = [
                    {"type": event, "object": obj, "plural": kind.plural}
                    for version, event, obj in self._history
                    if version > int(since) and obj["kind"] == kind.kind
                ]
        else:
            replay = [
                {"type": "ADDED", "object": copy.deepcopy(o), "plural": kind.plural}
                for o in self.objects_of(kind.plural, namespace)
            ]
        entry = (kind.plural, queue)
        self._watchers.append(entry)

        def wanted(event: Mapping[str, Any]) -> bool:
            if event["type"] == "ERROR":
                return True
            obj = event["object"]
            return (
                (namespace is None or obj["metadata"].get("namespace") == namespace)
                and matches_labels(obj["metadata"].get("labels") or {}, labels)
                and matches_fields(obj, fields)
            )

        async def events() -> AsyncIterator[bytes]:
            loop = asyncio.get_running_loop()
            end = loop.time() + timeout
            try:
                for event in replay:
                    if wanted(event):
                        yield _encode(event)
                    if event["type"] == "ERROR":
                        return
                while (left := end - loop.time()) > 0:
                    try:
                        item = await asyncio.wait_for(queue.get(), left)
                    except TimeoutError:
                        return
                    if item is None:
                        return
                    if wanted(item):
                        yield _encode(item)
            finally:
                if entry in self._watchers:
                    self._watchers.remove(entry)

        return FakeResponse(200, headers={"content-type": "application/json"}, stream=events())

    @property
    def open_watches(self) -> int:
        """Watch streams currently open."""
        return len(self._watchers)

    def drop_watches(self) -> None:
        """End every open watch stream, as an API server restart or a load balancer does."""
        for _, queue in self._watchers:
            queue.put_nowait(None)

    def compact(self) -> None:
        """Forget the event history: watches from any earlier version now get 410 Expired."""
        if self._history:
            self._oldest_kept = self._history[-1][0] + 1
            self._history.clear()

    async def stop(self) -> None:
        self.drop_watches()
        for task in list(self._tasks):
            task.cancel()
        await super().stop()


def _encode(event: Mapping[str, Any]) -> bytes:
    return (json.dumps({"type": event["type"], "object": event["object"]}) + "\n").encode()


def _status_body(
    code: int,
    reason: str,
    message: str,
    *,
    kind: str | None = None,
    name: str | None = None,
    status: str = "Failure",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": status,
        "message": message,
        "reason": reason,
        "code": code,
    }
    if kind is not None:
        body["details"] = {"name": name, "kind": kind}
    return body


def _status(
    code: int, reason: str, message: str, *, kind: str | None = None, name: str | None = None
) -> FakeResponse:
    return json_response(_status_body(code, reason, message, kind=kind, name=name), code)


def _not_found_path() -> FakeResponse:
    return _status(404, "NotFound", "the server could not find the requested resource")


__all__ = [
    "KINDS",
    "FakeKubernetes",
    "Kind",
    "format_quantity",
    "matches_fields",
    "matches_labels",
    "parse_quantity",
]
