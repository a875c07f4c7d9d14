"""Live views of the clouds (images, flavours, security groups, limits) and cloud clients."""

from __future__ import annotations

import weakref
from typing import Any

from visa_platform.api.graphql.resolvers.common import context, settings
from visa_platform.api.graphql.resolvers.registry import resolver
from visa_platform.compute import CloudClients, CloudError, CloudFlavour, CloudImage
from visa_platform.compute.clients import DEFAULT_CLOUD_ID
from visa_platform.domain.errors import NotFound
from visa_platform.services import admin_clouds
from visa_platform.services.cloud_clients import announce_cloud_change
from visa_platform.services.clouds import CloudViews, ViewKind

MEGABYTE = 1024 * 1024
_views: weakref.WeakKeyDictionary[CloudClients, CloudViews] = weakref.WeakKeyDictionary()


def views(ctx: Any) -> CloudViews | None:
    """The app's cached cloud views (one per set of cloud clients)."""
    clients = context(ctx).runtime.clouds
    if clients is None:
        return None
    found = _views.get(clients)
    if found is None:
        found = _views[clients] = CloudViews(clients)
    return found


def _cloud(cloud_id: int | None) -> int | None:
    return None if cloud_id is None or cloud_id <= 0 else cloud_id


def _image(image: CloudImage) -> dict[str, Any]:
    return {"id": image.id, "name": image.name, "size": (image.size or 0) // MEGABYTE}


def _flavour(flavour: CloudFlavour, cloud_id: int) -> dict[str, Any]:
    return {
        "id": flavour.id,
        "name": flavour.name,
        "cpus": int(flavour.cpus),
        "disk": flavour.disk,
        "ram": flavour.ram,
        "cloudId": cloud_id,
        "deviceAllocations": [],
    }


async def cloud_view(ctx: Any, cloud_id: int | None, kind: ViewKind) -> list[Any] | None:
    """One view of a cloud as API values; ``None`` when the cloud is unknown or failing."""
    found = views(ctx)
    if found is None:
        return None
    try:
        values = await found.view(_cloud(cloud_id), kind)
    except CloudError:
        return None
    key = admin_clouds.cloud_key(_cloud(cloud_id))
    if kind == "images":
        return [_image(i) for i in values]
    if kind == "flavours":
        return [_flavour(f, key) for f in values]
    if kind == "security_groups":
        return [{"name": name} for name in values]
    return [values]


async def _required_view(ctx: Any, cloud_id: int | None, kind: ViewKind) -> list[Any]:
    found = views(ctx)
    if found is None:
        raise NotFound("no cloud clients are open")
    if found.clients.get(_cloud(cloud_id)) is None:
        raise NotFound(f"Cloud client {cloud_id} not found")
    result = await cloud_view(ctx, cloud_id, kind)
    return result or []


@resolver("Query.cloudImages")
async def cloud_images(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await _required_view(ctx, args.get("cloudId"), "images")


@resolver("Query.cloudFlavours")
async def cloud_flavours(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await _required_view(ctx, args.get("cloudId"), "flavours")


@resolver("Query.cloudSecurityGroups")
async def cloud_security_groups(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await _required_view(ctx, args.get("cloudId"), "security_groups")


@resolver("Query.cloudLimits")
async def cloud_limits(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    """One entry per cloud client; ``error`` set when the cloud does not answer."""
    clients = await context(ctx).read(admin_clouds.cloud_clients, settings(ctx))
    found = views(ctx)
    answer: list[dict[str, Any]] = []
    for client in clients:
        limit, error = None, None
        if found is None:
            error = "the cloud clients are not open"
        else:
            try:
                value = await found.limits(_cloud(client.id))
            except CloudError as exc:
                error = exc.user_message
            else:
                limit = (
                    None
                    if value is None
                    else {
                        "maxTotalRAMSize": value.max_total_ram_size,
                        "totalRAMUsed": value.total_ram_used,
                        "totalInstancesUsed": value.total_instances_used,
                        "maxTotalInstances": value.max_total_instances,
                        "maxTotalCores": value.max_total_cores,
                        "totalCoresUsed": value.total_cores_used,
                    }
                )
        answer.append(
            {"cloudClient": client, "cloudLimit": limit, "devicePoolUsage": [], "error": error}
        )
    return answer


@resolver("Query.cloudClients")
async def cloud_clients(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_clouds.cloud_clients, settings(ctx))


@resolver("CloudFlavour.cloudClient")
async def cloud_flavour_client(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    from visa_platform.api.graphql.resolvers.instances import cloud_loader

    return await cloud_loader(ctx).load(parent.get("cloudId", DEFAULT_CLOUD_ID))


OPENSTACK_KEYS = (
    "applicationId",
    "applicationSecret",
    "computeEndpoint",
    "placementEndpoint",
    "imageEndpoint",
    "networkEndpoint",
    "identityEndpoint",
    "addressProvider",
    "addressProviderUUID",
)


@resolver("CloudClient.openStackProviderConfiguration")
async def openstack_configuration(
    parent: admin_clouds.CloudClientView, args: dict[str, Any], ctx: Any, info: Any
) -> Any:
    if parent.type != "openstack" or parent.id == DEFAULT_CLOUD_ID:
        return None
    values: dict[str, str | None] = {key: parent.parameters.get(key, "") for key in OPENSTACK_KEYS}
    values["placementEndpoint"] = parent.parameters.get("placementEndpoint")
    return values


@resolver("CloudClient.webProviderConfiguration")
async def web_configuration(
    parent: admin_clouds.CloudClientView, args: dict[str, Any], ctx: Any, info: Any
) -> Any:
    if parent.type != "web" or parent.id == DEFAULT_CLOUD_ID:
        return None
    return {key: parent.parameters.get(key, "") for key in ("url", "authToken")}


# -- mutations ---------------------------------------------------------------------------------


def _cloud_change(given: dict[str, Any]) -> admin_clouds.CloudClientChange:
    kind = (given.get("type") or "").strip().lower()
    source = (
        given.get("openStackProviderConfiguration")
        if kind == "openstack"
        else given.get("webProviderConfiguration")
        if kind == "web"
        else None
    )
    return admin_clouds.CloudClientChange(
        type=kind,
        name=given["name"],
        server_name_prefix=given["serverNamePrefix"],
        visible=given["visible"],
        parameters=dict(source or {}),
    )


def forget_views(clients: CloudClients, cloud_id: int) -> None:
    """Forget the cached views of a cloud that changed (here or on another replica)."""
    found = _views.get(clients)
    if found is not None:
        found.invalidate(cloud_id)


async def _reloaded(ctx: Any, cloud_id: int, *, deleted: bool = False) -> None:
    """Rebuild this process's client of a changed cloud, forget its cached views, and have
    the other replicas do the same."""
    gql = context(ctx)
    clients = gql.runtime.clouds
    if clients is None:
        return
    async with gql.lock:
        await clients.reload(cloud_id, gql.session, settings(ctx))
        await gql.session.rollback()
    forget_views(clients, cloud_id)
    await announce_cloud_change(gql.runtime, cloud_id, deleted=deleted)


@resolver("Mutation.createCloudClient")
async def create_cloud_client(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    created = await context(ctx).write(admin_clouds.create, _cloud_change(args["input"]))
    await _reloaded(ctx, created.id)
    return created


@resolver("Mutation.updateCloudClient")
async def update_cloud_client(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    updated = await context(ctx).write(
        admin_clouds.update, args["id"], _cloud_change(args["input"])
    )
    await _reloaded(ctx, updated.id)
    return updated


@resolver("Mutation.deleteCloudClient")
async def delete_cloud_client(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> bool:
    deleted = await context(ctx).write(admin_clouds.delete, args["id"])
    await _reloaded(ctx, args["id"], deleted=True)
    return deleted
