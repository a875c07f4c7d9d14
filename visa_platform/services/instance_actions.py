"""What the lifecycle engine does to an instance: create, start, shutdown, reboot, delete
(spec/domain.md §2.5, §2.7), and how it tells plugins and browsers about state changes.

Every action reads what it needs in one short transaction, calls the cloud with no transaction
open (SQLite would otherwise hold its write lock during a slow cloud call), then writes the
outcome in a second transaction. Events are published only after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from visa_platform.compute import (
    Capability,
    CloudClient,
    CloudClients,
    CloudInstance,
    CloudNotFoundError,
    InstanceRequest,
    instance_metadata,
    next_instance_state,
    server_name,
)
from visa_platform.config import Settings
from visa_platform.db.models import (
    BookingToken,
    Experiment,
    Image,
    Instance,
    Instrument,
    Plan,
    Protocol,
    Role,
    UserRole,
)
from visa_platform.db.models.facility import instrument_scientist
from visa_platform.desktop import rows
from visa_platform.domain.enums import InstanceState
from visa_platform.events.broker import Broker, Event, to_role
from visa_platform.events.instances import instances_changed, owner_of, state_changed
from visa_platform.notifications.dispatcher import NotificationDispatcher
from visa_platform.plugin import PluginHost
from visa_platform.plugin.types import InstanceEvent, SecurityGroupQuery
from visa_platform.scheduler.clock import Clock, SystemClock
from visa_platform.services.instance_ports import PortProbe, check_ports, tcp_port_open

log = logging.getLogger("visa_platform.lifecycle")

#: An instance with what its events, port check and cloud calls need.
LOAD_FOR_ENGINE = (
    selectinload(Instance.members),
    selectinload(Instance.vdi_protocol),
    selectinload(Instance.plan).selectinload(Plan.image).selectinload(Image.protocols),
    selectinload(Instance.plan).selectinload(Plan.image).selectinload(Image.default_vdi_protocol),
    selectinload(Instance.plan).selectinload(Plan.image).selectinload(Image.secondary_vdi_protocol),
    selectinload(Instance.plan).selectinload(Plan.flavour),
)


@dataclass
class EngineContext:
    """What the engine's actions and jobs use: database, clouds, plugins, broker, time."""

    sessions: async_sessionmaker[AsyncSession]
    clouds: CloudClients
    plugins: PluginHost
    broker: Broker
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    probe: PortProbe = tcp_port_open
    #: Emails and other notifications (``notify`` never blocks or raises); none by default.
    notifications: NotificationDispatcher = field(
        default_factory=lambda: NotificationDispatcher({})
    )

    @property
    def port_timeout(self) -> float:
        return self.settings.instance_port_check_timeout_ms / 1000


# -- notifications -------------------------------------------------------------------------


@dataclass
class Notice:
    """One instance change to announce after the commit."""

    event: InstanceEvent
    previous_state: str
    gateway: Event | None
    deleted: bool = False


def notice(
    ctx: EngineContext, instance: Instance, previous: InstanceState, actor: str | None
) -> Notice:
    """Snapshot ``instance`` (members and vdi protocol loaded) for the hooks and the gateway."""
    owner = owner_of(instance)
    deleted = instance.state is InstanceState.DELETED
    gateway = (
        (instances_changed(owner) if owner is not None else None)
        if deleted
        else state_changed(instance)
    )
    return Notice(
        InstanceEvent(
            instance_id=instance.id,
            uid=instance.uid,
            name=instance.name,
            state=instance.state.value,
            owner_id=owner,
            plan_id=instance.plan_id,
            compute_id=instance.compute_id,
            occurred_at=ctx.clock.now(),
            actor_id=actor,
        ),
        previous.value,
        gateway,
        deleted,
    )


async def announce(ctx: EngineContext, notices: Iterable[Notice]) -> None:
    """Fire ``instance_state_changed`` (and ``instance_deleted``) and publish gateway events."""
    errors_changed = False
    for item in notices:
        await ctx.plugins.instance_state_changed(item.event, item.previous_state)
        if item.deleted:
            await ctx.plugins.instance_deleted(item.event)
        if item.gateway is not None:
            await ctx.broker.publish(item.gateway)
        errors_changed |= InstanceState.ERROR.value in (item.previous_state, item.event.state)
    if errors_changed:
        await ctx.broker.publish(Event("admin:instance_errors_changed", to_role("ADMIN")))


# -- shared steps --------------------------------------------------------------------------


async def load_instance(session: AsyncSession, instance_id: int) -> Instance | None:
    return await session.scalar(
        select(Instance)
        .where(Instance.id == instance_id)
        .options(*LOAD_FOR_ENGINE)
        .execution_options(populate_existing=True)
    )


async def rdp_protocol(session: AsyncSession) -> Protocol | None:
    """VISA's legacy fallback for the GUACD secondary protocol."""
    return await session.scalar(select(Protocol).where(Protocol.name == "RDP").limit(1))


def cloud_id_of(instance: Instance) -> int | None:
    image = instance.plan.image if instance.plan is not None else None
    return image.cloud_provider_configuration_id if image is not None else None


def soft_delete(instance: Instance, now: Any) -> None:
    instance.state = InstanceState.DELETED
    instance.ip_address = None
    instance.deleted_at = now


async def free_booking_tokens(session: AsyncSession, instance_ids: list[int]) -> None:
    if instance_ids:
        await session.execute(
            update(BookingToken)
            .where(BookingToken.instance_id.in_(instance_ids))
            .values(instance_id=None)
            .execution_options(synchronize_session=False)
        )


def read_pam_public_key(settings: Settings) -> str | None:
    path = settings.vdi_signature_public_key_path
    if path is None:
        return None
    try:
        return path.read_text().strip() or None
    except OSError as exc:
        log.warning("pam_public_key path=%s outcome=unreadable error=%r", path, exc)
        return None


async def owner_roles(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, set[str]]:
    """The role and group names of each user, in one query."""
    wanted = list(dict.fromkeys(user_ids))
    roles: dict[str, set[str]] = {u: set() for u in wanted}
    if wanted:
        rows = await session.execute(
            select(UserRole.user_id, Role.name)
            .join(Role, UserRole.role_id == Role.id)
            .where(UserRole.user_id.in_(wanted))
        )
        for user_id, name in rows:
            roles[user_id].add(name)
    return roles


async def security_groups_for(
    ctx: EngineContext, session: AsyncSession, instance: Instance, roles: set[str]
) -> list[str]:
    """The groups the ``visa_instance_security_groups`` hook gives ``instance`` (spec §5).

    ``instance`` has its members, plan (image, flavour) and experiments loaded; ``roles`` are
    its owner's.
    """
    plan = instance.plan
    image = plan.image if plan is not None else None
    return await ctx.plugins.instance_security_groups(
        SecurityGroupQuery(
            instance_id=instance.id,
            instance_uid=instance.uid,
            owner_id=owner_of(instance) or "",
            owner_roles=frozenset(roles),
            flavour_id=plan.flavour_id if plan is not None else None,
            cloud_id=image.cloud_provider_configuration_id if image is not None else None,
            experiment_ids=tuple(e.id for e in instance.experiments),
            instrument_ids=tuple(dict.fromkeys(e.instrument_id for e in instance.experiments)),
        ),
        session,
    )


# -- actions -------------------------------------------------------------------------------


async def create(ctx: EngineContext, instance_id: int, actor: str | None) -> None:
    """CREATE: security groups, metadata, server, then the state the cloud reports.

    A CREATE tried again (a retry, or resumed after a restart or an outage) takes the server
    already named for the instance, if there is one, instead of creating another: the earlier
    try may have created it before failing (a timeout, or the database lost before the server id
    was saved). An earlier try is known by the groups it stored before calling the cloud.
    """
    async with ctx.sessions() as session:
        instance = await session.scalar(
            select(Instance)
            .where(Instance.id == instance_id)
            .options(
                *LOAD_FOR_ENGINE,
                selectinload(Instance.attributes),
                selectinload(Instance.experiments).selectinload(Experiment.instrument),
                selectinload(Instance.experiments).selectinload(Experiment.proposal),
            )
        )
        if instance is None or instance.deleted_at is not None or instance.compute_id is not None:
            return  # gone, or created before a restart: nothing to do
        plan = instance.plan
        if plan is None or plan.image is None or plan.flavour is None:
            raise ValueError(f"instance {instance_id} has no image or flavour")
        image, flavour = plan.image, plan.flavour
        client = ctx.clouds.require(image.cloud_provider_configuration_id)
        tried_before = instance.security_groups is not None
        owner = owner_of(instance)
        instruments = [e.instrument.name for e in instance.experiments]
        if owner is not None:
            instruments += list(
                await session.scalars(
                    select(Instrument.name)
                    .join(
                        instrument_scientist, instrument_scientist.c.instrument_id == Instrument.id
                    )
                    .where(instrument_scientist.c.user_id == owner)
                    .order_by(Instrument.name)
                )
            )
        roles = (await owner_roles(session, [owner] if owner else [])).get(owner or "", set())
        groups = await security_groups_for(ctx, session, instance, roles)
        request = InstanceRequest(
            name=server_name(client.server_name_prefix, instance.id),
            image_id=image.compute_id,
            flavour_id=flavour.compute_id,
            security_groups=tuple(groups),
            metadata=instance_metadata(
                instance_id=instance.id,
                uid=instance.uid,
                owner=instance.username or "",
                screen_width=instance.screen_width,
                screen_height=instance.screen_height,
                keyboard_layout=instance.keyboard_layout,
                instruments=instruments,
                proposals=[e.proposal.identifier for e in instance.experiments],
                pam_public_key=read_pam_public_key(ctx.settings),
                attributes={a.name: a.value for a in instance.attributes},
            ),
            boot_command=image.boot_command,
        )
        instance.security_groups = ",".join(groups)
        await session.commit()

    server = await find_server(client, request.name) if tried_before else None
    if server is None:
        server = await client.backend.create_instance(request)
    change = next_instance_state(server)
    state = change.state
    protocols: str | None = None
    address = change.ip_address if change.update_ip else None
    if state is not None and change.port_check and address:
        # ACTIVE at once, with an address: check the ports now (no transaction open)
        async with ctx.sessions() as session:
            checked = await load_instance(session, instance_id)
            rdp = await rdp_protocol(session)
        if checked is not None and checked.plan is not None and checked.plan.image is not None:
            checked.ip_address = address
            result = await check_ports(
                checked,
                checked.plan.image,
                preference=ctx.settings.instance_default_protocol.value,
                rdp=rdp,
                seconds=ctx.port_timeout,
                probe=ctx.probe,
            )
            state, protocols = result.state, result.active_protocols

    async with ctx.sessions() as session:
        instance = await load_instance(session, instance_id)
        if instance is None:
            return
        previous = instance.state
        instance.compute_id = server.id
        if change.update_ip:
            instance.ip_address = address
        if state is not None:
            instance.state = state
        if protocols is not None:
            instance.active_protocols = protocols
        notices = [notice(ctx, instance, previous, actor)] if instance.state != previous else []
        await session.commit()
    await announce(ctx, notices)
    log.info("instance=%s action=CREATE compute_id=%s", instance_id, server.id)


async def find_server(client: CloudClient, name: str) -> CloudInstance | None:
    """The server named ``name``, if the cloud has one."""
    for server in await client.backend.list_instance_identifiers():
        if server.name == name:
            found = await client.backend.get_instance(server.id)
            if found is not None:
                log.info("server=%s name=%s outcome=adopted", server.id, name)
                return found
    return None


async def mark_error(ctx: EngineContext, instance_id: int, actor: str | None) -> None:
    """A CREATE that failed for good: the instance goes to ERROR (admins are told)."""
    async with ctx.sessions() as session:
        instance = await load_instance(session, instance_id)
        if instance is None or instance.deleted_at is not None:
            return
        previous = instance.state
        instance.state = InstanceState.ERROR
        notices = [notice(ctx, instance, previous, actor)] if previous != instance.state else []
        await session.commit()
    await announce(ctx, notices)


async def _power(ctx: EngineContext, instance_id: int, operation: str) -> None:
    async with ctx.sessions() as session:
        instance = await load_instance(session, instance_id)
        if instance is None or instance.deleted_at is not None or instance.compute_id is None:
            return
        client = ctx.clouds.get(cloud_id_of(instance))
        compute_id = instance.compute_id
    if client is None:
        return  # spec §2.7: a missing cloud client makes the action a no-op
    try:
        await getattr(client.backend, f"{operation}_instance")(compute_id)
    except CloudNotFoundError:
        return  # the server does not exist (any more): the state job will notice
    async with ctx.sessions() as session:
        await rows.end_sessions(session, instance_id)
        await session.commit()


async def start(ctx: EngineContext, instance_id: int, actor: str | None) -> None:
    await _power(ctx, instance_id, "start")


async def shutdown(ctx: EngineContext, instance_id: int, actor: str | None) -> None:
    await _power(ctx, instance_id, "shutdown")


async def reboot(ctx: EngineContext, instance_id: int, actor: str | None) -> None:
    await _power(ctx, instance_id, "reboot")


async def delete(ctx: EngineContext, instance_id: int, actor: str | None) -> None:
    """DELETE: delete the server (if any), then the instance is DELETED (soft delete)."""
    async with ctx.sessions() as session:
        instance = await load_instance(session, instance_id)
        if instance is None or instance.deleted_at is not None:
            return
        client = ctx.clouds.get(cloud_id_of(instance))
        compute_id = instance.compute_id
    if compute_id is not None and client is not None:
        with contextlib.suppress(CloudNotFoundError):
            await client.backend.delete_instance(compute_id)
    async with ctx.sessions() as session:
        instance = await load_instance(session, instance_id)
        if instance is None or instance.deleted_at is not None:
            return
        previous = instance.state
        await rows.end_sessions(session, instance_id)
        soft_delete(instance, ctx.clock.now())
        await free_booking_tokens(session, [instance_id])
        notices = [notice(ctx, instance, previous, actor)]
        await session.commit()
    await announce(ctx, notices)


async def update_security_groups(ctx: EngineContext, instance_id: int, actor: str | None) -> None:
    """UPDATE_SECURITY_GROUPS: recompute the groups, store them, make the server's match."""
    async with ctx.sessions() as session:
        instance = await session.scalar(
            select(Instance)
            .where(Instance.id == instance_id)
            .options(*LOAD_FOR_ENGINE, selectinload(Instance.experiments))
        )
        if instance is None or instance.deleted_at is not None or instance.compute_id is None:
            return
        client = ctx.clouds.get(cloud_id_of(instance))
        if client is None:
            return  # spec §2.7: a missing cloud client makes the action a no-op
        owner = owner_of(instance)
        roles = (await owner_roles(session, [owner] if owner else [])).get(owner or "", set())
        groups = await security_groups_for(ctx, session, instance, roles)
        instance.security_groups = ",".join(groups)
        compute_id = instance.compute_id
        await session.commit()
    if not client.backend.supports(Capability.SECURITY_GROUPS):
        log.info("instance=%s cloud=%s security_groups=unsupported", instance_id, client.id)
        return
    try:
        await client.backend.update_security_groups(compute_id, groups)
    except CloudNotFoundError:
        return  # the server is gone: the state job will notice
    log.info("instance=%s action=UPDATE_SECURITY_GROUPS groups=%s", instance_id, ",".join(groups))


async def gather_bounded(limit: int, coroutines: Iterable[Any]) -> list[Any]:
    """Run coroutines concurrently, at most ``limit`` at a time, results in order."""
    semaphore = asyncio.Semaphore(limit)

    async def bounded(coroutine: Any) -> Any:
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(bounded(c) for c in coroutines))
