"""State sync (spec/domain.md §2.2-§2.4, §7 InstanceStateJob): instance states follow the cloud.

One pass lists each cloud's servers once (the backend follows the cloud's pages), then walks the
instances of that cloud in pages: per page a fixed number of statements (the instances with what
the port check needs, the last user command of each, one bulk update, the booking tokens of the
deleted), whatever the page size. Port checks run concurrently, at most ``port_concurrency`` at a
time. A server missing from the listing is fetched once more before the instance is declared
DELETED (it may have been created after the listing was taken). No transaction is open during
cloud calls or port checks.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.compute import CloudClient, CloudError, CloudInstance, next_instance_state
from visa_platform.db.models import Image, Instance, InstanceCommand, Plan, Protocol
from visa_platform.domain.enums import InstanceCommandType, InstanceState
from visa_platform.services.instance_actions import (
    LOAD_FOR_ENGINE,
    EngineContext,
    Notice,
    announce,
    free_booking_tokens,
    gather_bounded,
    notice,
    rdp_protocol,
)
from visa_platform.services.instance_ports import check_ports

log = logging.getLogger("visa_platform.states")

#: States polled every 5 s (InstanceStateJob.updateNonStable).
UNSTABLE_STATES = frozenset(
    {
        InstanceState.BUILDING,
        InstanceState.STARTING,
        InstanceState.PARTIALLY_ACTIVE,
        InstanceState.ACTIVE_MIGRATING,
        InstanceState.REBOOTING,
        InstanceState.STOPPING,
        InstanceState.MIGRATING,
        InstanceState.DELETED,
    }
)

PAGE_SIZE = 500


@dataclass
class SyncReport:
    """What one pass did (logs, tests, benchmarks)."""

    instances: int = 0
    changed: int = 0
    cloud_errors: int = 0


@dataclass
class _Outcome:
    instance: Instance
    previous: InstanceState
    previous_ip: str | None
    previous_protocols: str | None

    @property
    def changed(self) -> bool:
        i = self.instance
        return (
            i.state != self.previous
            or i.ip_address != self.previous_ip
            or i.active_protocols != self.previous_protocols
            or (i.state is InstanceState.DELETED and i.deleted_at is not None)
        )


def _cloud_filter(cloud_id: int | None) -> ColumnElement[bool]:
    column = Image.cloud_provider_configuration_id
    return column.is_(None) if cloud_id is None else column == cloud_id


async def _page(
    session: AsyncSession,
    cloud_id: int | None,
    after: int,
    states: Collection[InstanceState] | None,
    size: int,
) -> list[Instance]:
    query = (
        select(Instance)
        .join(Plan, Plan.id == Instance.plan_id)
        .join(Image, Image.id == Plan.image_id)
        .where(Instance.deleted_at.is_(None), Instance.id > after, _cloud_filter(cloud_id))
        .options(*LOAD_FOR_ENGINE)
        .order_by(Instance.id)
        .limit(size)
    )
    if states is not None:
        query = query.where(Instance.state.in_(list(states)))
    return list((await session.scalars(query)).all())


async def _last_user_commands(
    session: AsyncSession, instance_ids: list[int]
) -> dict[int, InstanceCommandType]:
    latest = (
        select(func.max(InstanceCommand.id).label("id"))
        .where(InstanceCommand.instance_id.in_(instance_ids), InstanceCommand.user_id.is_not(None))
        .group_by(InstanceCommand.instance_id)
        .subquery()
    )
    rows = await session.execute(
        select(InstanceCommand.instance_id, InstanceCommand.action_type).join(
            latest, latest.c.id == InstanceCommand.id
        )
    )
    return {i: a for i, a in rows}


async def sync_states(
    ctx: EngineContext,
    *,
    states: Collection[InstanceState] | None = None,
    page_size: int = PAGE_SIZE,
    port_concurrency: int = 32,
) -> SyncReport:
    """One pass over every cloud; ``states`` limits it to instances in those states."""
    report = SyncReport()
    async with ctx.sessions() as session:
        rdp = await rdp_protocol(session)
    for client in ctx.clouds:
        await _sync_cloud(ctx, client, rdp, states, page_size, port_concurrency, report)
    return report


async def _sync_cloud(
    ctx: EngineContext,
    client: CloudClient,
    rdp: Protocol | None,
    states: Collection[InstanceState] | None,
    page_size: int,
    port_concurrency: int,
    report: SyncReport,
) -> None:
    servers: dict[str, CloudInstance] | None = None
    after = 0
    while True:
        async with ctx.sessions() as session:
            page = await _page(session, client.id, after, states, page_size)
            if not page:
                return
            last_commands = await _last_user_commands(session, [i.id for i in page])
            session.expunge_all()
        after = page[-1].id
        if servers is None and any(i.compute_id for i in page):
            try:
                servers = {s.id: s for s in await client.backend.observed_instances()}
            except CloudError as exc:
                report.cloud_errors += 1
                log.warning("cloud=%s outcome=list_failed error=%r", client.id, str(exc))
                return
        report.instances += len(page)
        now = ctx.clock.now()
        outcomes = await gather_bounded(
            port_concurrency,
            (
                _update_one(ctx, client, i, servers or {}, last_commands.get(i.id), rdp, now)
                for i in page
            ),
        )
        changed = [o for o in outcomes if o is not None and o.changed]
        if changed:
            await _save(ctx, changed, report)
        if len(page) < page_size:
            return


async def _update_one(
    ctx: EngineContext,
    client: CloudClient,
    instance: Instance,
    servers: dict[str, CloudInstance],
    last_command: InstanceCommandType | None,
    rdp: Protocol | None,
    now: datetime,
) -> _Outcome | None:
    outcome = _Outcome(instance, instance.state, instance.ip_address, instance.active_protocols)
    if instance.state is InstanceState.DELETED:
        instance.deleted_at = now  # VISA's updateAll: a DELETED instance is soft-deleted
        return outcome
    if instance.compute_id is None:
        return None
    server = servers.get(instance.compute_id)
    if server is None:
        try:  # not in the listing: created since, or really gone?
            server = await client.backend.get_instance(instance.compute_id)
        except CloudError as exc:
            log.warning("instance=%s outcome=get_failed error=%r", instance.id, str(exc))
            return None
    change = next_instance_state(server, last_command)
    if change.update_ip:
        instance.ip_address = change.ip_address
    if change.state is None:
        return outcome
    if change.state is InstanceState.DELETED:
        instance.state = InstanceState.DELETED
        instance.deleted_at = now
        return outcome
    new_state: InstanceState = change.state
    image = instance.plan.image if instance.plan is not None else None
    if change.port_check and image is not None:
        result = await check_ports(
            instance,
            image,
            preference=ctx.settings.instance_default_protocol.value,
            rdp=rdp,
            seconds=ctx.port_timeout,
            probe=ctx.probe,
        )
        new_state = result.state
        if result.active_protocols is not None:
            instance.active_protocols = result.active_protocols
    if (
        instance.active_at is None
        and outcome.previous in (InstanceState.BUILDING, InstanceState.STARTING)
        and new_state in (InstanceState.ACTIVE, InstanceState.PARTIALLY_ACTIVE)
    ):
        instance.active_at = now
    instance.state = new_state
    return outcome


async def _save(ctx: EngineContext, changed: list[_Outcome], report: SyncReport) -> None:
    """One bulk UPDATE for the page, guarded by the state read (a user action meanwhile wins)."""
    now = ctx.clock.now()
    table = cast(Table, Instance.__table__)
    statement = (
        update(table)
        .where(
            and_(
                table.c.id == bindparam("b_id"),
                table.c.state == bindparam("b_previous"),
                table.c.deleted_at.is_(None),
            )
        )
        .values(
            state=bindparam("b_state"),
            ip_address=bindparam("b_ip"),
            active_protocols=bindparam("b_protocols"),
            active_at=bindparam("b_active_at"),
            deleted_at=bindparam("b_deleted_at"),
            updated_at=bindparam("b_updated_at"),
        )
    )
    rows = [
        {
            "b_id": o.instance.id,
            "b_previous": o.previous.value,
            "b_state": o.instance.state.value,
            "b_ip": o.instance.ip_address,
            "b_protocols": o.instance.active_protocols,
            "b_active_at": o.instance.active_at,
            "b_deleted_at": o.instance.deleted_at,
            "b_updated_at": now,
        }
        for o in changed
    ]
    deleted = [o.instance.id for o in changed if o.instance.state is InstanceState.DELETED]
    async with ctx.sessions() as session:
        await session.execute(statement, rows)
        await free_booking_tokens(session, deleted)
        await session.commit()
    report.changed += len(changed)
    notices: list[Notice] = [
        notice(ctx, o.instance, o.previous, None) for o in changed if o.instance.state != o.previous
    ]
    await announce(ctx, notices)


__all__ = ["PAGE_SIZE", "UNSTABLE_STATES", "SyncReport", "sync_states"]
