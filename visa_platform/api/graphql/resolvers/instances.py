"""Instances: the queries of the admin instances and dashboard pages, nested fields, actions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.api.graphql.resolvers.common import context, settings
from visa_platform.api.graphql.resolvers.paging import connection, page_of
from visa_platform.api.graphql.resolvers.registry import resolver
from visa_platform.compute import CloudError
from visa_platform.db.models import (
    Instance,
    InstanceAttribute,
    InstanceDeviceAllocation,
    InstanceSession,
    InstanceSessionMember,
    User,
)
from visa_platform.domain.enums import InstanceCommandType, InstanceMemberRole, InstanceState
from visa_platform.events import instances as instance_events
from visa_platform.services import admin_clouds, admin_instances
from visa_platform.services.admin_instances import InstanceFilter

MAX_INSTANCES = 50


def _filter(args: dict[str, Any]) -> InstanceFilter:
    given = args.get("filter") or {}
    ids = given.get("ids")
    state = given.get("state")
    return InstanceFilter(
        ids=tuple(int(i) for i in ids if i is not None) if ids is not None else None,
        name_like=given.get("nameLike"),
        instrument_id=given.get("instrumentId"),
        image_id=given.get("imageId"),
        flavour_id=given.get("flavourId"),
        device_pool_id=given.get("devicePoolId"),
        state=InstanceState(state) if state is not None else None,
        owner_id=given.get("ownerId"),
    )


def _loaded(ctx: Any, rows: list[Instance]) -> list[Instance]:
    """``rows``, remembered by the request's instance loader (nested fields reuse them)."""
    loader = instance_loader(ctx)
    for row in rows:
        loader.prime(row.id, row)
    return rows


@resolver("Query.instances")
async def instances(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), MAX_INSTANCES)
    order = args.get("orderBy") or {}
    rows, total = await context(ctx).read(
        admin_instances.search,
        _filter(args),
        order.get("name"),
        order.get("ascending", True) is not False,
        page.offset,
        page.limit,
    )
    return connection(_loaded(ctx, rows), total, page)


@resolver("Query.countInstances")
async def count_instances(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_instances.count, _filter(args))


@resolver("Query.instance")
async def instance(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Instance:
    found = await context(ctx).read(admin_instances.get, args["id"])
    return _loaded(ctx, [found])[0]


@resolver("Query.recentInstances")
async def recent_instances(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), MAX_INSTANCES)
    rows, total = await context(ctx).read(admin_instances.recent, page.offset, page.limit)
    return connection(_loaded(ctx, rows), total, page)


@resolver("Query.countInstancesForState")
async def count_for_state(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    counts = await context(ctx).read(
        admin_instances.count_for_states, [InstanceState(args["state"])]
    )
    return counts[0][1]


@resolver("Query.countInstancesForStates")
async def count_for_states(
    parent: Any, args: dict[str, Any], ctx: Any, info: Any
) -> list[dict[str, Any]]:
    states = args.get("states")
    wanted = [InstanceState(s) for s in states if s is not None] if states is not None else None
    counts = await context(ctx).read(admin_instances.count_for_states, wanted)
    return [{"state": state.value, "count": n} for state, n in counts]


@resolver("Query.countInstancesByFlavours")
async def count_by_flavours(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_instances.count_by_flavours)


@resolver("Query.countInstancesByImages")
async def count_by_images(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_instances.count_by_images)


@resolver("Query.countInstancesByCloudClients")
async def count_by_clouds(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(
        admin_instances.count_by_clouds, settings(ctx).default_cloud_provider_name
    )


# -- nested fields ---------------------------------------------------------------------------


def _owner_member(instance: Instance) -> Any:
    return next((m for m in instance.members if m.role is InstanceMemberRole.OWNER), None)


@resolver("Instance.owner")
async def owner(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> User | None:
    member = _owner_member(parent)
    return member.user if member is not None else None


@resolver("Instance.cloudId")
async def instance_cloud_id(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> int:
    image = parent.plan.image if parent.plan is not None else None
    return admin_clouds.cloud_key(image.cloud_provider_configuration_id if image else None)


async def _attributes(session: AsyncSession, ids: list[int]) -> dict[int, list[Any]]:
    rows = await session.scalars(
        select(InstanceAttribute)
        .where(InstanceAttribute.instance_id.in_(ids))
        .order_by(InstanceAttribute.id)
    )
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.instance_id, []).append(row)
    return found


@resolver("Instance.attributes")
async def attributes(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).loader("instance.attributes", _attributes, []).load(parent.id)


async def _session_members(session: AsyncSession, ids: list[int]) -> dict[int, list[Any]]:
    rows = await session.scalars(
        select(InstanceSessionMember)
        .join(InstanceSession, InstanceSession.id == InstanceSessionMember.instance_session_id)
        .where(InstanceSession.instance_id.in_(ids))
        .options(
            selectinload(InstanceSessionMember.instance_session),
            selectinload(InstanceSessionMember.user).selectinload(User.affiliation),
        )
        .order_by(InstanceSessionMember.id.desc())
    )
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.instance_session.instance_id, []).append(row)
    return found


@resolver("Instance.sessions")
async def sessions(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).loader("instance.sessions", _session_members, []).load(parent.id)


@resolver("Instance.activeSessions")
async def active_sessions(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    every: list[Any] = (
        await context(ctx).loader("instance.sessions", _session_members, []).load(parent.id)
    )
    return [m for m in every if m.active]


async def _allocations(session: AsyncSession, ids: list[int]) -> dict[int, list[Any]]:
    rows = await session.scalars(
        select(InstanceDeviceAllocation)
        .where(InstanceDeviceAllocation.instance_id.in_(ids))
        .options(selectinload(InstanceDeviceAllocation.device_pool))
    )
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.instance_id, []).append(row)
    return found


@resolver("Instance.deviceAllocations")
async def device_allocations(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    rows: list[Any] = (
        await context(ctx).loader("instance.devices", _allocations, []).load(parent.id)
    )
    return [
        {"instance": parent, "devicePool": r.device_pool, "unitCount": r.unit_count} for r in rows
    ]


def cloud_loader(ctx: Any) -> Any:
    config = settings(ctx)

    async def fetch(session: AsyncSession, ids: list[int]) -> dict[int, Any]:
        return await admin_clouds.cloud_clients_by_id(session, config, ids)

    return context(ctx).loader("cloud_clients", fetch, None)


@resolver("Instance.cloudClient")
async def instance_cloud_client(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await cloud_loader(ctx).load(await instance_cloud_id(parent, args, ctx, info))


@resolver("Instance.protocols")
async def protocols(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    image = parent.plan.image if parent.plan is not None else None
    active = {p for p in (parent.active_protocols or "").split(",") if p}
    return [{"protocol": p, "active": p.name in active} for p in (image.protocols if image else [])]


@resolver("Instance.cloudInstance")
async def cloud_instance(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    """The server as the cloud reports it now; null when unknown or the cloud fails."""
    clouds = context(ctx).runtime.clouds
    if parent.compute_id is None or clouds is None:
        return None
    image = parent.plan.image if parent.plan is not None else None
    client = clouds.get(image.cloud_provider_configuration_id if image else None)
    if client is None:
        return None
    try:
        server = await client.backend.get_instance(parent.compute_id)
    except CloudError:
        return None
    if server is None:
        return None
    fault = server.fault
    return {
        "id": server.id,
        "name": server.name,
        "address": server.address,
        "securityGroups": list(server.security_groups),
        "state": server.state.value,
        "fault": None
        if fault is None
        else {
            "message": fault.message,
            "code": fault.code,
            "details": fault.details,
            "created": fault.created.isoformat()
            if isinstance(fault.created, datetime)
            else fault.created,
        },
    }


@resolver("Instance.bookingToken")
async def booking_token(parent: Instance, args: dict[str, Any], ctx: Any, info: Any) -> None:
    return None  # bookings are not available yet


@resolver("InstanceSessionMember.duration")
async def session_duration(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    end = datetime.now(UTC) if parent.active else (parent.updated_at or parent.created_at)
    return max(int((end - parent.created_at).total_seconds()), 0)


@resolver("InstanceSession.instanceId")
async def session_instance_id(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return int(parent.instance_id)


@resolver("InstanceSession.protocol")
async def session_protocol(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> str:
    return parent.protocol or "GUACAMOLE"


async def _instances(session: AsyncSession, ids: list[int]) -> dict[int, Instance]:
    from visa_platform.services import instances as instance_rules

    return {i.id: i for i in await instance_rules.load(session, ids)}


def instance_loader(ctx: Any) -> Any:
    return context(ctx).loader("instances", _instances, None)


@resolver("InstanceSession.instance")
async def session_instance(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await instance_loader(ctx).load(parent.instance_id)


# -- mutations -------------------------------------------------------------------------------


async def _publish_state(ctx: Any, instance: Instance) -> None:
    event = instance_events.state_changed(instance)
    if event is not None:
        context(ctx).events.append(event)


def _action(action: InstanceCommandType) -> Any:
    async def resolve(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> dict[str, str]:
        gql = context(ctx)

        async def change(session: AsyncSession) -> str:
            found, message = await admin_instances.act(
                session, args["id"], gql.principal.user_id, action
            )
            await _publish_state(ctx, found)
            return message

        return {"message": await gql.write(change)}

    return resolve


resolver("Mutation.rebootInstance")(_action(InstanceCommandType.REBOOT))
resolver("Mutation.startInstance")(_action(InstanceCommandType.START))
resolver("Mutation.shutdownInstance")(_action(InstanceCommandType.SHUTDOWN))


@resolver("Mutation.deleteInstance")
async def delete_instance(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    gql = context(ctx)

    async def change(session: AsyncSession) -> str:
        found, message = await admin_instances.delete(session, args["id"], gql.principal.user_id)
        await _publish_state(ctx, found)
        return message

    return {"message": await gql.write(change)}


@resolver("Mutation.updateInstanceTerminationDate")
async def update_termination_date(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    gql = context(ctx)

    async def change(session: AsyncSession) -> str:
        found, message = await admin_instances.update_termination_date(
            session, args["id"], args.get("date")
        )
        await _publish_state(ctx, found)
        return message

    return {"message": await gql.write(change)}
