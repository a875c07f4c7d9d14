"""Mutations of images, flavours, plans, security groups and their filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.api.graphql.resolvers.clouds import views
from visa_platform.api.graphql.resolvers.common import context
from visa_platform.api.graphql.resolvers.registry import resolver
from visa_platform.compute import CloudError
from visa_platform.domain.enums import ImageAutoAcceptExtensionRequest
from visa_platform.domain.errors import BadRequest
from visa_platform.services import admin_catalogue_changes as changes
from visa_platform.services import admin_security_groups
from visa_platform.services.admin_catalogue_changes import FlavourChange, ImageChange, PlanChange
from visa_platform.services.admin_security_groups import FilterChange
from visa_platform.services.clouds import ViewKind


async def offered(ctx: Any, cloud_id: int | None, kind: ViewKind) -> set[str]:
    """What the cloud offers now (image or flavour ids, security group names)."""
    cloud = None if cloud_id is None or cloud_id <= 0 else cloud_id
    found = views(ctx)
    if found is None or found.clients.get(cloud) is None:
        raise BadRequest(
            f"cloud client {cloud_id if cloud_id is not None else -1} is not available"
        )
    try:
        values = await found.view(cloud, kind)
    except CloudError as exc:
        raise BadRequest(f"the cloud could not be asked: {exc.user_message}") from None
    if kind == "security_groups":
        return set(values)
    return {v.id for v in values}


def _ids(value: Any) -> tuple[int, ...]:
    return tuple(i for i in value or [] if i is not None)


# -- images ------------------------------------------------------------------------------------


def _image_change(given: dict[str, Any]) -> ImageChange:
    auto = given.get("autoAcceptExtensionRequest")
    return ImageChange(
        name=given["name"],
        version=given.get("version"),
        description=given.get("description"),
        icon=given.get("icon"),
        cloud_id=given.get("cloudId"),
        compute_id=given["computeId"],
        visible=given["visible"],
        protocol_ids=_ids(given.get("protocolIds")),
        boot_command=given.get("bootCommand"),
        autologin=given.get("autologin"),
        default_vdi_protocol_id=given["defaultVdiProtocolId"],
        secondary_vdi_protocol_id=given.get("secondaryVdiProtocolId"),
        auto_accept_extension_request=ImageAutoAcceptExtensionRequest(auto) if auto else None,
    )


@resolver("Mutation.createImage")
async def create_image(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    change = _image_change(args["input"])
    ids = await offered(ctx, change.cloud_id, "images")
    return await context(ctx).write(changes.create_image, change, ids)


@resolver("Mutation.updateImage")
async def update_image(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    change = _image_change(args["input"])
    ids = await offered(ctx, change.cloud_id, "images")
    return await context(ctx).write(changes.update_image, args["id"], change, ids)


@resolver("Mutation.deleteImage")
async def delete_image(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(changes.delete_image, args["id"])


# -- flavours ----------------------------------------------------------------------------------


def _flavour_change(given: dict[str, Any]) -> FlavourChange:
    lifetimes = tuple(
        (item.get("roleId"), item.get("lifetimeMinutes") or 0)
        for item in given.get("roleLifetimes") or []
        if item is not None
    )
    return FlavourChange(
        name=given["name"],
        memory=given["memory"],
        cpu=given["cpu"],
        cloud_id=given.get("cloudId"),
        compute_id=given["computeId"],
        instrument_ids=_ids(given.get("instrumentIds")),
        role_ids=_ids(given.get("roleIds")),
        role_lifetimes=lifetimes,
    )


@resolver("Mutation.createFlavour")
async def create_flavour(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    change = _flavour_change(args["input"])
    ids = await offered(ctx, change.cloud_id, "flavours")
    return await context(ctx).write(changes.create_flavour, change, ids)


@resolver("Mutation.updateFlavour")
async def update_flavour(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    change = _flavour_change(args["input"])
    ids = await offered(ctx, change.cloud_id, "flavours")
    return await context(ctx).write(changes.update_flavour, args["id"], change, ids)


@resolver("Mutation.deleteFlavour")
async def delete_flavour(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(changes.delete_flavour, args["id"])


# -- plans -------------------------------------------------------------------------------------


def _plan_change(given: dict[str, Any]) -> PlanChange:
    return PlanChange(given["imageId"], given["flavourId"], given["preset"])


@resolver("Mutation.createPlan")
async def create_plan(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(changes.create_plan, _plan_change(args["input"]))


@resolver("Mutation.updatePlan")
async def update_plan(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(changes.update_plan, args["id"], _plan_change(args["input"]))


@resolver("Mutation.deletePlan")
async def delete_plan(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(changes.delete_plan, args["id"])


# -- security groups ---------------------------------------------------------------------------


@resolver("Mutation.createSecurityGroup")
async def create_security_group(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    given = args["input"]
    names = await offered(ctx, given.get("cloudId"), "security_groups")

    async def change(session: AsyncSession) -> Any:
        cloud_row = await changes.cloud_row_id(session, given.get("cloudId"))
        return await admin_security_groups.create_security_group(
            session, given["name"], cloud_row, names
        )

    return await context(ctx).write(change)


@resolver("Mutation.updateSecurityGroup")
async def update_security_group(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    given = args["input"]
    names = await offered(ctx, given.get("cloudId"), "security_groups")

    async def change(session: AsyncSession) -> Any:
        cloud_row = await changes.cloud_row_id(session, given.get("cloudId"))
        return await admin_security_groups.update_security_group(
            session, args["id"], given["name"], cloud_row, names
        )

    return await context(ctx).write(change)


@resolver("Mutation.deleteSecurityGroup")
async def delete_security_group(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(admin_security_groups.delete_security_group, args["id"])


def _filter_change(given: dict[str, Any]) -> FilterChange:
    return FilterChange(given["securityGroupId"], given["objectId"], given["objectType"])


@resolver("Mutation.createSecurityGroupFilter")
async def create_filter(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(
        admin_security_groups.create_filter, _filter_change(args["input"])
    )


@resolver("Mutation.updateSecurityGroupFilter")
async def update_filter(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(
        admin_security_groups.update_filter, args["id"], _filter_change(args["input"])
    )


@resolver("Mutation.deleteSecurityGroupFilter")
async def delete_filter(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(admin_security_groups.delete_filter, args["id"])
