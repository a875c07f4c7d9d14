"""Images, flavours, plans, protocols, instruments, flavour limits and experiments."""

from __future__ import annotations

from typing import Any

from visa_platform.api.graphql.resolvers.clouds import cloud_view
from visa_platform.api.graphql.resolvers.common import cloud_id, context
from visa_platform.api.graphql.resolvers.instances import cloud_loader
from visa_platform.api.graphql.resolvers.paging import connection, page_of
from visa_platform.api.graphql.resolvers.registry import resolver
from visa_platform.db.models import Flavour, Image
from visa_platform.services import admin_catalogue, catalogue
from visa_platform.services.admin_catalogue import ExperimentFilter

MAX_EXPERIMENTS = 50


@resolver("Query.images")
async def images(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_catalogue.images)


@resolver("Query.countImages")
async def count_images(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_catalogue.count_images)


@resolver("Query.flavours")
async def flavours(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_catalogue.flavours)


@resolver("Query.countFlavours")
async def count_flavours(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_catalogue.count_flavours)


@resolver("Query.plans")
async def plans(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_catalogue.plans)


@resolver("Query.imageProtocols")
async def image_protocols(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_catalogue.protocols)


@resolver("Query.instruments")
async def instruments(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(catalogue.instruments)


@resolver("Query.flavourLimits")
async def flavour_limits(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_catalogue.flavour_limits)


def _experiment_filter(args: dict[str, Any]) -> ExperimentFilter:
    given = args.get("filter") or {}

    def date_of(key: str) -> Any:
        value = given.get(key)
        return value.get("date") if isinstance(value, dict) else None

    def strings(key: str) -> tuple[str, ...] | None:
        value = given.get(key)
        return tuple(v for v in value if v is not None) if value is not None else None

    return ExperimentFilter(
        user_id=given.get("userId"),
        start_date=date_of("startDate"),
        end_date=date_of("endDate"),
        instrument_id=given.get("instrumentId"),
        proposals=strings("proposals"),
        proposal_like=given.get("proposalLike"),
        dois=strings("dois"),
    )


@resolver("Query.experiments")
async def experiments(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), MAX_EXPERIMENTS)
    order = args.get("orderBy") or {}
    rows, total = await context(ctx).read(
        admin_catalogue.search_experiments,
        _experiment_filter(args),
        order.get("name"),
        order.get("ascending", True) is not False,
        page.offset,
        page.limit,
    )
    return connection(rows, total, page)


@resolver("Query.countExperiments")
async def count_experiments(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_catalogue.count_experiments, _experiment_filter(args))


# -- nested fields -----------------------------------------------------------------------------


@resolver("Image.cloudId")
async def image_cloud_id(parent: Image, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return cloud_id(parent)


@resolver("Image.cloudClient")
async def image_cloud_client(parent: Image, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await cloud_loader(ctx).load(cloud_id(parent))


@resolver("Image.cloudImage")
async def image_cloud_image(parent: Image, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    found = await cloud_view(ctx, cloud_id(parent), "images")
    return next((i for i in found or [] if i["id"] == parent.compute_id), None)


@resolver("Flavour.cloudId")
async def flavour_cloud_id(parent: Flavour, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return cloud_id(parent)


@resolver("Flavour.cloudClient")
async def flavour_cloud_client(parent: Flavour, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await cloud_loader(ctx).load(cloud_id(parent))


@resolver("Flavour.cloudFlavour")
async def flavour_cloud_flavour(parent: Flavour, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    found = await cloud_view(ctx, cloud_id(parent), "flavours")
    return next((f for f in found or [] if f["id"] == parent.compute_id), None)


@resolver("Flavour.roleLifetimes")
async def role_lifetimes(parent: Flavour, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    loader = context(ctx).loader("flavour.lifetimes", admin_catalogue.role_lifetimes, [])
    return await loader.load(parent.id)


@resolver("DevicePool.cloudClient")
async def device_pool_cloud_client(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await cloud_loader(ctx).load(cloud_id(parent))


@resolver("DevicePool.cloudDevice")
async def device_pool_cloud_device(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> None:
    return None  # cloud devices are not available yet


@resolver("Experiment.startDate")
async def experiment_start(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return parent.start_date


@resolver("Proposal.title")
async def proposal_title(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> str:
    return parent.title or ""
