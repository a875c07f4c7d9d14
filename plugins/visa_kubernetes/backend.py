"""The ``kubernetes`` compute backend, on the official asyncio client (``kubernetes.aio``).

Objects and states are described in :mod:`visa_kubernetes.objects` and docs/kubernetes.md.
Calls use the client's ``*_without_preload_content`` methods and read the JSON themselves: the
answers stay plain dicts (cheap for thousands of pods, and no strict model validation to trip
over), and every status code is mapped to a typed cloud error here. Each call is bounded by
the cloud's call timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from kubernetes.aio import client as k8s
from kubernetes.aio import config as k8s_config

# The generated API modules are huge (CoreV1Api takes about a second of CPU to import, mostly
# unmarshalling, which holds the GIL even in a thread). kubernetes.aio imports them lazily on
# first attribute access, which would stall the event loop on the first call; importing them
# here moves that cost to when the cloud client is built.
from kubernetes.aio.client.api import core_v1_api as _core_v1_api  # noqa: F401
from kubernetes.aio.client.api import networking_v1_api as _networking_v1_api  # noqa: F401

from visa_kubernetes import objects as o
from visa_kubernetes.informer import Informer
from visa_kubernetes.settings import KubernetesSettings, load_settings
from visa_platform.compute import (
    BackendConfig,
    Capability,
    CloudAuthenticationError,
    CloudConfigurationError,
    CloudError,
    CloudFlavour,
    CloudImage,
    CloudInstance,
    CloudInstanceIdentifier,
    CloudLimit,
    CloudNotFoundError,
    CloudProtocolError,
    CloudRejectedError,
    CloudUnavailableError,
    ComputeBackend,
    InstanceRequest,
    sorted_names,
)

log = logging.getLogger("visa_kubernetes")

Call = Callable[..., Awaitable[Any]]


class _NotFound:
    """A 404 the caller asked to receive instead of an exception."""


NOT_FOUND: Any = _NotFound()


def error_for(status: int, operation: str, body: bytes) -> CloudError:
    """A typed error for an API status (the ``Status`` message goes to the log text only)."""
    try:
        detail = json.loads(body).get("message") or ""
    except (ValueError, AttributeError):
        detail = body[:200].decode(errors="replace")
    message = f"{operation}: HTTP {status}: {detail}"
    if status == 401:
        return CloudAuthenticationError(message, status=status)
    if status == 404:
        return CloudNotFoundError(message, status=status)
    if status == 403 and "exceeded quota" in detail:
        return CloudRejectedError(
            message, status=status, user_message="The cloud's quota does not allow this."
        )
    if status == 403:
        return CloudAuthenticationError(
            message,
            status=status,
            user_message="The platform's service account may not do this; "
            "contact an administrator.",
        )
    if status >= 500 or status == 429:
        return CloudUnavailableError(message, status=status)
    return CloudRejectedError(message, status=status)


class KubernetesBackend(ComputeBackend):
    """Instances as pods (plus a service, a secret and optionally a home volume)."""

    capabilities = frozenset(
        {
            Capability.START_STOP,
            Capability.REBOOT,
            Capability.LIMITS,
            Capability.CATALOGUE,
            Capability.SECURITY_GROUPS,
        }
    )

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.settings: KubernetesSettings = load_settings(config)
        self.namespace = self.settings.namespace
        self.call_timeout = config.call_timeout
        # the client takes one number: aiohttp's total timeout of the request
        self._timeout = float(config.call_timeout)
        self._api: k8s.ApiClient | None = None
        self._lock = asyncio.Lock()
        self._informer: Informer | None = None

    @classmethod
    def from_config(cls, config: BackendConfig) -> KubernetesBackend:
        return cls(config)

    # -- plumbing ---------------------------------------------------------------------------

    async def api_client(self) -> k8s.ApiClient:
        """The shared API client, configured on first use (kubeconfig loading is async)."""
        async with self._lock:
            if self._api is None:
                self._api = k8s.ApiClient(await self._configuration())
            return self._api

    async def _configuration(self) -> k8s.Configuration:
        s = self.settings
        configuration = k8s.Configuration()
        try:
            if s.authentication == "in-cluster":
                k8s_config.load_incluster_config(  # type: ignore[no-untyped-call]
                    client_configuration=configuration
                )
            elif s.authentication == "kubeconfig":
                await k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=s.kubeconfig,
                    context=s.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
            else:
                configuration.host = s.server or ""
                if s.token:
                    configuration.api_key = {"BearerToken": s.token}
                    configuration.api_key_prefix = {"BearerToken": "Bearer"}
                configuration.ssl_ca_cert = s.ca_certificate
                configuration.verify_ssl = s.verify_ssl
        except (k8s_config.ConfigException, OSError, ValueError) as exc:
            raise CloudConfigurationError(
                f"kubernetes cloud {self.config.name!r}: {s.authentication} "
                f"configuration failed: {exc}"
            ) from exc
        configuration.retries = None
        return configuration

    async def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(await self.api_client())

    async def networking(self) -> k8s.NetworkingV1Api:
        return k8s.NetworkingV1Api(await self.api_client())

    async def call(
        self, operation: str, method: Call, *args: Any, not_found_ok: bool = False, **kwargs: Any
    ) -> Any:
        """Run one ``*_without_preload_content`` method; the decoded JSON body."""
        try:
            async with asyncio.timeout(self.call_timeout):
                response = await method(*args, _request_timeout=self._timeout, **kwargs)
                try:
                    body = await response.read()
                finally:
                    response.release()
        except TimeoutError as exc:
            raise CloudUnavailableError(f"{operation}: timed out") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise CloudUnavailableError(f"{operation}: {type(exc).__name__}: {exc}") from exc
        except k8s.ApiException as exc:  # raised for requests the client cannot even build
            raise CloudRejectedError(f"{operation}: {exc.reason}") from exc
        status = response.status
        if status == 404 and not_found_ok:
            return NOT_FOUND
        if status >= 400:
            raise error_for(status, operation, body)
        try:
            decoded = json.loads(body) if body else None
        except ValueError as exc:
            raise CloudProtocolError(f"{operation}: the answer is not JSON") from exc
        if decoded is not None and not isinstance(decoded, dict):
            raise CloudProtocolError(f"{operation}: the answer is not a JSON object")
        return decoded

    async def _items(self, operation: str, method: Call, **kwargs: Any) -> list[dict[str, Any]]:
        body = await self.call(operation, method, self.namespace, **kwargs)
        items = (body or {}).get("items")
        if not isinstance(items, list) or not all(_is_object(i) for i in items):
            raise CloudProtocolError(f"{operation}: malformed list")
        return items

    async def _service(self, instance_id: str) -> dict[str, Any]:
        """The instance's anchor service; ``CloudNotFoundError`` when there is none."""
        service = await self._find_service(instance_id)
        if service is None:
            raise CloudNotFoundError(f"instance {instance_id} not found")
        return service

    async def _find_service(self, instance_id: str) -> dict[str, Any] | None:
        if not o.is_instance_id(instance_id):
            return None
        core = await self.core()
        body = await self.call(
            f"read service {instance_id}",
            core.read_namespaced_service_without_preload_content,
            instance_id,
            self.namespace,
            not_found_ok=True,
        )
        if body is NOT_FOUND:
            return None
        if not _is_object(body):
            raise CloudProtocolError(f"read service {instance_id}: malformed service")
        if (body["metadata"].get("labels") or {}).get(o.INSTANCE) != instance_id:
            return None  # a service we did not create
        return dict(body)

    async def _pods(self, instance_id: str | None = None) -> list[dict[str, Any]]:
        core = await self.core()
        selector = f"{o.INSTANCE}={instance_id}" if instance_id else o.MANAGED_SELECTOR
        return await self._items(
            "list pods", core.list_namespaced_pod_without_preload_content, label_selector=selector
        )

    async def _patch_service(self, instance_id: str, annotations: Mapping[str, str]) -> None:
        core = await self.core()
        await self.call(
            f"patch service {instance_id}",
            core.patch_namespaced_service_without_preload_content,
            instance_id,
            self.namespace,
            {"metadata": {"annotations": dict(annotations)}},
        )

    async def _delete(self, operation: str, method: Call, name: str, **kwargs: Any) -> bool:
        """Delete one object; ``False`` when it was already gone."""
        body = await self.call(operation, method, name, self.namespace, not_found_ok=True, **kwargs)
        return body is not NOT_FOUND

    async def _delete_pods(self, pods: list[dict[str, Any]], grace: int | None = None) -> None:
        core = await self.core()
        await asyncio.gather(
            *(
                self._delete(
                    f"delete pod {p['metadata']['name']}",
                    core.delete_namespaced_pod_without_preload_content,
                    p["metadata"]["name"],
                    grace_period_seconds=grace,
                )
                for p in pods
                if not p["metadata"].get("deletionTimestamp")
            )
        )

    async def _create_pod(self, service: Mapping[str, Any]) -> dict[str, Any]:
        annotations = service["metadata"].get("annotations") or {}
        image = self.settings.image(annotations.get(o.IMAGE, ""))
        flavour = self.settings.flavour(annotations.get(o.FLAVOUR, ""))
        if image is None or flavour is None:
            raise CloudRejectedError(
                f"instance {service['metadata']['name']}: image or flavour no longer configured",
                user_message="The instance's image or flavour is no longer available.",
            )
        manifest = o.pod_manifest(service, image=image, flavour=flavour, settings=self.settings)
        core = await self.core()
        created = await self.call(
            f"create pod {manifest['metadata']['name']}",
            core.create_namespaced_pod_without_preload_content,
            self.namespace,
            manifest,
        )
        if not _is_object(created):
            raise CloudProtocolError("create pod: malformed pod")
        return dict(created)

    # -- servers ----------------------------------------------------------------------------

    async def create_instance(self, request: InstanceRequest) -> CloudInstance:
        image = self.settings.image(request.image_id)
        flavour = self.settings.flavour(request.flavour_id)
        if image is None or flavour is None:
            what = "image" if image is None else "flavour"
            raise CloudRejectedError(
                f"{what} {request.image_id if image is None else request.flavour_id!r} "
                "is not configured for this cloud",
                user_message=f"The requested {what} does not exist on this cloud.",
            )
        for group in request.security_groups:
            _check_group_name(group)
        instance_id = o.instance_id_for(request.name)
        core = await self.core()
        service = o.service_manifest(
            instance_id,
            name=request.name,
            image=image,
            flavour=flavour,
            metadata=request.metadata,
            groups=request.security_groups,
            settings=self.settings,
        )
        created: list[tuple[str, Call]] = []
        try:
            stored = await self.call(
                f"create service {instance_id}",
                core.create_namespaced_service_without_preload_content,
                self.namespace,
                service,
            )
            created.append(("service", core.delete_namespaced_service_without_preload_content))
            await self.call(
                f"create secret {instance_id}",
                core.create_namespaced_secret_without_preload_content,
                self.namespace,
                o.secret_manifest(instance_id, request.metadata),
            )
            created.append(("secret", core.delete_namespaced_secret_without_preload_content))
            if self.settings.home_volume_size:
                await self.call(
                    f"create volume claim {instance_id}-home",
                    core.create_namespaced_persistent_volume_claim_without_preload_content,
                    self.namespace,
                    o.pvc_manifest(instance_id, self.settings),
                )
            if not _is_object(stored):
                raise CloudProtocolError("create service: malformed service")
            pod = await self._create_pod(stored)
        except BaseException:
            await self._remove_objects(instance_id, bool(created))
            raise
        return o.to_instance(stored, [pod], self.settings.address)

    async def _remove_objects(self, instance_id: str, any_created: bool = True) -> None:
        """Best-effort removal of everything an instance may own (after a failed create)."""
        if not any_created:
            return
        try:
            await self._delete_everything(instance_id)
        except CloudError as exc:
            log.warning("kubernetes cleanup failed instance=%s error=%s", instance_id, exc)

    async def _delete_everything(
        self, instance_id: str, service: Mapping[str, Any] | None = None
    ) -> None:
        core = await self.core()
        await self._delete_pods(await self._pods(instance_id))
        await self._delete(
            f"delete secret {instance_id}",
            core.delete_namespaced_secret_without_preload_content,
            instance_id,
        )
        home = (
            (service["metadata"].get("annotations") or {}).get(o.HOME)
            if service is not None
            else f"{instance_id}-home"
            if self.settings.home_volume_size
            else None
        )
        if home:
            await self._delete(
                f"delete volume claim {home}",
                core.delete_namespaced_persistent_volume_claim_without_preload_content,
                home,
            )
        await self._delete(
            f"delete service {instance_id}",
            core.delete_namespaced_service_without_preload_content,
            instance_id,
        )

    async def get_instance(self, instance_id: str) -> CloudInstance | None:
        service = await self._find_service(instance_id)
        if service is None:
            return None
        return o.to_instance(service, await self._pods(instance_id), self.settings.address)

    async def list_instances(self) -> list[CloudInstance]:
        """Two calls whatever the number of instances: the services, then the pods."""
        core = await self.core()
        services, pods = await asyncio.gather(
            self._items(
                "list services",
                core.list_namespaced_service_without_preload_content,
                label_selector=o.MANAGED_SELECTOR,
            ),
            self._pods(),
        )
        return join(services, pods, self.settings.address)

    async def list_instance_identifiers(self) -> list[CloudInstanceIdentifier]:
        core = await self.core()
        services = await self._items(
            "list services",
            core.list_namespaced_service_without_preload_content,
            label_selector=o.MANAGED_SELECTOR,
        )
        return [
            CloudInstanceIdentifier(
                id=s["metadata"]["name"],
                name=(s["metadata"].get("annotations") or {}).get(o.NAME) or s["metadata"]["name"],
            )
            for s in services
        ]

    async def shutdown_instance(self, instance_id: str) -> None:
        """Record the power state, then delete the pod (the service, secret and home stay)."""
        await self._service(instance_id)
        await self._patch_service(instance_id, {o.POWER: "off", o.ACTION: "shutdown"})
        await self._delete_pods(await self._pods(instance_id))

    async def start_instance(self, instance_id: str) -> None:
        """Create a pod of a new generation unless one is alive (start is idempotent)."""
        service = await self._service(instance_id)
        if o.live_pods(await self._pods(instance_id)):
            await self._patch_service(instance_id, {o.POWER: "on"})
            return
        await self._new_generation(service, "start")

    async def reboot_instance(self, instance_id: str) -> None:
        """Kubernetes cannot reboot a pod: delete it now and create the next generation."""
        service = await self._service(instance_id)
        await self._delete_pods(await self._pods(instance_id), grace=0)
        await self._new_generation(service, "reboot")

    async def _new_generation(self, service: dict[str, Any], action: str) -> None:
        instance_id = service["metadata"]["name"]
        annotations = dict(service["metadata"].get("annotations") or {})
        generation = str(int(annotations.get(o.GENERATION, "1")) + 1)
        update = {o.POWER: "on", o.ACTION: action, o.GENERATION: generation}
        await self._patch_service(instance_id, update)
        annotations.update(update)
        service["metadata"]["annotations"] = annotations
        await self._create_pod(service)

    async def delete_instance(self, instance_id: str) -> None:
        """Delete the pods, secret, home volume claim and service."""
        service = await self._service(instance_id)
        await self._delete_everything(instance_id, service)

    # -- catalogue --------------------------------------------------------------------------

    async def images(self) -> list[CloudImage]:
        """The configured images (Kubernetes has no image catalogue)."""
        return [i.cloud_image() for i in self.settings.images]

    async def flavours(self) -> list[CloudFlavour]:
        """The configured flavours."""
        return [f.cloud_flavour() for f in self.settings.flavours]

    async def limits(self) -> CloudLimit | None:
        """The namespace's ResourceQuotas (the tightest of each); ``None`` without a quota.

        A resource no quota limits is reported as -1 (unlimited), as OpenStack does.
        """
        core = await self.core()
        quotas = await self._items(
            "list resource quotas", core.list_namespaced_resource_quota_without_preload_content
        )
        if not quotas:
            return None
        try:
            return quota_limits(quotas)
        except (ValueError, TypeError, AttributeError) as exc:
            raise CloudProtocolError(f"malformed resource quota: {exc}") from exc

    # -- security groups as NetworkPolicies ---------------------------------------------------

    async def security_groups(self) -> list[str]:
        """Groups are NetworkPolicies labelled ``visa-platform.io/security-group=<name>``."""
        networking = await self.networking()
        policies = await self._items(
            "list network policies",
            networking.list_namespaced_network_policy_without_preload_content,
            label_selector=f"{o.PREFIX}/security-group",
        )
        return sorted_names(
            (p["metadata"].get("labels") or {}).get(f"{o.PREFIX}/security-group")
            or p["metadata"]["name"]
            for p in policies
        )

    async def instance_security_groups(self, instance_id: str) -> list[str]:
        return o.security_groups_of(await self._service(instance_id))

    async def add_security_group(self, instance_id: str, name: str) -> None:
        _check_group_name(name)
        groups = o.security_groups_of(await self._service(instance_id))
        if name not in groups:
            await self._set_groups(instance_id, [*groups, name], {name: "true"})

    async def remove_security_group(self, instance_id: str, name: str) -> None:
        groups = o.security_groups_of(await self._service(instance_id))
        if name in groups:
            await self._set_groups(instance_id, [g for g in groups if g != name], {name: None})

    async def _set_groups(
        self, instance_id: str, groups: list[str], pod_labels: Mapping[str, str | None]
    ) -> None:
        """Store the groups on the service, and label the live pod so policies select it."""
        await self._patch_service(instance_id, {o.GROUPS: json.dumps(groups)})
        core = await self.core()
        patch = {"metadata": {"labels": {o.group_label(k): v for k, v in pod_labels.items()}}}
        for pod in o.live_pods(await self._pods(instance_id)):
            await self.call(
                "label pod",
                core.patch_namespaced_pod_without_preload_content,
                pod["metadata"]["name"],
                self.namespace,
                patch,
                not_found_ok=True,
            )

    # -- the shared watch -------------------------------------------------------------------

    async def informer(self) -> Informer:
        """The shared watch of this cloud's services and pods, started on first use."""
        if self._informer is None:
            core = await self.core()
            self._informer = Informer(
                core,
                self.namespace,
                o.MANAGED_SELECTOR,
                address_source=self.settings.address,
                timeout=self._timeout,
            )
            self._informer.start()
        return self._informer

    async def observed_instances(self) -> list[CloudInstance]:
        """State sync reads the shared watch's cache: no API call per pass once it is warm.

        While the cache cannot be warm (the watch keeps failing), fall back to an authoritative
        list, so that states still follow the cluster.
        """
        try:
            return await self.cached_instances(within=self._timeout)
        except CloudUnavailableError:
            log.warning("namespace=%s outcome=informer_not_synced fallback=list", self.namespace)
            return await self.list_instances()

    async def cached_instances(self, within: float = 30.0) -> list[CloudInstance]:
        """Every instance from the shared watch's cache (no API call once warm)."""
        informer = await self.informer()
        await informer.wait_synced(within)
        return informer.instances()

    async def close(self) -> None:
        if self._informer is not None:
            await self._informer.stop()
            self._informer = None
        if self._api is not None:
            await self._api.close()  # type: ignore[no-untyped-call]
            self._api = None


def _is_object(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("metadata"), dict)
        and bool(value["metadata"].get("name"))
    )


def _check_group_name(name: str) -> None:
    """A group becomes the label ``security-group.visa-platform.io/<name>``: check it can."""
    if not re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", name):
        raise CloudRejectedError(
            f"security group {name!r} cannot be a label name",
            user_message="The security group name is not valid on this cloud.",
        )


def join(
    services: list[dict[str, Any]], pods: list[dict[str, Any]], address_source: str
) -> list[CloudInstance]:
    """Instances from the services and all managed pods, grouped by instance label."""
    by_instance: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        key = (pod["metadata"].get("labels") or {}).get(o.INSTANCE)
        if key:
            by_instance.setdefault(key, []).append(pod)
    return [
        o.to_instance(s, by_instance.get(s["metadata"]["name"], []), address_source)
        for s in services
    ]


def quota_limits(quotas: list[dict[str, Any]]) -> CloudLimit:
    """Tightest hard limit and matching usage over ResourceQuotas (cores, MB, pods)."""

    def pick(keys: tuple[str, ...], scale: int) -> tuple[int, int]:
        best: tuple[int, int] | None = None
        for quota in quotas:
            status = quota.get("status") or {}
            hard = status.get("hard") or (quota.get("spec") or {}).get("hard") or {}
            used = status.get("used") or {}
            for key in keys:
                if key in hard:
                    limit = int(o.parse_quantity(hard[key]) / scale)
                    usage = int(o.parse_quantity(used.get(key, "0")) / scale)
                    if best is None or limit < best[0]:
                        best = (limit, usage)
        return best if best is not None else (-1, 0)

    pods = pick(("pods", "count/pods"), 1)
    cores = pick(("requests.cpu", "cpu", "limits.cpu"), 1)
    ram = pick(("requests.memory", "memory", "limits.memory"), 2**20)
    return CloudLimit(
        max_total_instances=pods[0],
        total_instances_used=pods[1],
        max_total_cores=cores[0],
        total_cores_used=cores[1],
        max_total_ram_size=ram[0],
        total_ram_used=ram[1],
    )


__all__ = ["KubernetesBackend", "error_for", "join", "quota_limits"]
