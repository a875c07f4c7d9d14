"""State sync (spec/domain.md §2.2-§2.4, §7 InstanceStateJob): instance states follow the cloud.

One pass lists each cloud's servers once (the backend follows the cloud's pages), then walks the
instances of that cloud in pages: per page a fixed number of statements (the columns of the
instances the rules need, the last user command of each, which have a command not yet done,
one bulk update, the booking tokens of the deleted, and the changed instances with their owner
for the events), whatever the page size. An instance whose command is still pending, queued or
running keeps its state: the command set it (STOPPING, STARTING ...) and the cloud has not seen
the action yet, so its answer is stale (the engine runs commands every 2 s, the sync of unstable
states every 5 s).
Images, their protocols and the protocols are read once per pass. Port probes run concurrently,
at most ``port_concurrency`` at a time, each (address, port) once. A server missing from the
listing is fetched once more before the instance is declared DELETED (it may have been created
after the listing was taken). No transaction is open during cloud calls or port checks.

A pass reads plain rows, not ORM objects: over 10,000 instances the object loading cost more
than everything else (tests/benchmarks/test_lifecycle_engine.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from visa_platform.compute import CloudClient, CloudError, CloudInstance, next_instance_state
from visa_platform.db.models import Image, Instance, InstanceCommand, Plan, Protocol
from visa_platform.domain.enums import InstanceCommandState, InstanceCommandType, InstanceState
from visa_platform.services.instance_actions import (
    EngineContext,
    Notice,
    announce,
    free_booking_tokens,
    gather_bounded,
    notice,
)
from visa_platform.services.instance_ports import (
    PortCheck,
    PortProbe,
    port_check_outcome,
    ports_to_probe,
    required_protocols,
)

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

_BECOMING_ACTIVE = (InstanceState.BUILDING, InstanceState.STARTING)
_ACTIVE = (InstanceState.ACTIVE, InstanceState.PARTIALLY_ACTIVE)


@dataclass
class SyncReport:
    """What one pass did (logs, tests, benchmarks)."""

    instances: int = 0
    changed: int = 0
    cloud_errors: int = 0


@dataclass(slots=True)
class _Row:
    """One instance as the pass reads and updates it."""

    id: int
    state: InstanceState
    compute_id: str | None
    ip_address: str | None
    active_protocols: str | None
    active_at: datetime | None
    vdi_protocol_id: int | None
    image_id: int | None
    previous: InstanceState
    previous_ip: str | None
    previous_protocols: str | None
    deleted_at: datetime | None = None

    @property
    def changed(self) -> bool:
        return (
            self.state != self.previous
            or self.ip_address != self.previous_ip
            or self.active_protocols != self.previous_protocols
            or (self.state is InstanceState.DELETED and self.deleted_at is not None)
        )


@dataclass
class _Catalogue:
    """What the port check needs, read once per pass: protocols and images."""

    protocols: dict[int, Protocol]
    rdp: Protocol | None
    images: dict[int, Image]

    async def load_images(self, session: AsyncSession, ids: Iterable[int | None]) -> None:
        missing = {i for i in ids if i is not None and i not in self.images}
        if missing:
            found = await session.scalars(
                select(Image)
                .where(Image.id.in_(missing))
                .options(
                    selectinload(Image.protocols),
                    selectinload(Image.default_vdi_protocol),
                    selectinload(Image.secondary_vdi_protocol),
                )
            )
            self.images.update({image.id: image for image in found})


async def _catalogue(ctx: EngineContext) -> _Catalogue:
    async with ctx.sessions() as session:
        protocols = list(await session.scalars(select(Protocol).order_by(Protocol.id)))
        session.expunge_all()
    rdp = next((p for p in protocols if p.name == "RDP"), None)
    return _Catalogue({p.id: p for p in protocols}, rdp, {})


def _cloud_filter(cloud_id: int | None) -> ColumnElement[bool]:
    column = Image.cloud_provider_configuration_id
    return column.is_(None) if cloud_id is None else column == cloud_id


async def _page(
    session: AsyncSession,
    cloud_id: int | None,
    after: int,
    states: Collection[InstanceState] | None,
    size: int,
) -> list[_Row]:
    query = (
        select(
            Instance.id,
            Instance.state,
            Instance.compute_id,
            Instance.ip_address,
            Instance.active_protocols,
            Instance.active_at,
            Instance.vdi_protocol_id,
            Plan.image_id,
        )
        .join(Plan, Plan.id == Instance.plan_id)
        .join(Image, Image.id == Plan.image_id)
        .where(Instance.deleted_at.is_(None), Instance.id > after, _cloud_filter(cloud_id))
        .order_by(Instance.id)
        .limit(size)
    )
    if states is not None:
        query = query.where(Instance.state.in_(list(states)))
    return [
        _Row(i, state, compute, ip, protocols, active, vdi, image, state, ip, protocols)
        for i, state, compute, ip, protocols, active, vdi, image in await session.execute(query)
    ]


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


#: A command in one of these states has not finished: what the cloud says is about to change.
OUTSTANDING = (
    InstanceCommandState.PENDING,
    InstanceCommandState.QUEUED,
    InstanceCommandState.RUNNING,
)


async def _busy(session: AsyncSession, instance_ids: list[int]) -> set[int]:
    """The instances with a command not yet done (queued by a user, the API or a job)."""
    rows = await session.scalars(
        select(InstanceCommand.instance_id)
        .where(
            InstanceCommand.instance_id.in_(instance_ids), InstanceCommand.state.in_(OUTSTANDING)
        )
        .distinct()
    )
    return set(rows)


async def sync_states(
    ctx: EngineContext,
    *,
    states: Collection[InstanceState] | None = None,
    page_size: int = PAGE_SIZE,
    port_concurrency: int = 32,
) -> SyncReport:
    """One pass over every cloud; ``states`` limits it to instances in those states."""
    report = SyncReport()
    catalogue = await _catalogue(ctx)
    for client in ctx.clouds:
        await _sync_cloud(ctx, client, catalogue, states, page_size, port_concurrency, report)
    return report


async def _sync_cloud(
    ctx: EngineContext,
    client: CloudClient,
    catalogue: _Catalogue,
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
            last_commands = await _last_user_commands(session, [r.id for r in page])
            busy = await _busy(session, [r.id for r in page])
            await catalogue.load_images(session, (r.image_id for r in page))
            session.expunge_all()
        after = page[-1].id
        if servers is None and any(r.compute_id for r in page):
            try:
                servers = {s.id: s for s in await client.backend.observed_instances()}
            except CloudError as exc:
                report.cloud_errors += 1
                log.warning("cloud=%s outcome=list_failed error=%r", client.id, str(exc))
                return
        report.instances += len(page)
        now = ctx.clock.now()
        listed = servers or {}
        missing = [r for r in page if r.compute_id and r.compute_id not in listed]
        found = await _confirm_missing(client, missing, port_concurrency)
        checks: list[tuple[_Row, InstanceState]] = []
        for row in page:
            server = listed.get(row.compute_id) if row.compute_id else None
            if server is None and row.id in found:
                server = found[row.id]
            if row.id in busy:
                continue  # its command decides the next state; the cloud's is about to change
            wanted = _apply(row, server, row.id in found, last_commands.get(row.id), now)
            if wanted is not None:
                checks.append((row, wanted))
        if checks:
            await _check_ports(ctx, catalogue, checks, now, port_concurrency)
        changed = [r for r in page if r.changed]
        if changed:
            await _save(ctx, changed, report)
        if len(page) < page_size:
            return


async def _confirm_missing(
    client: CloudClient, missing: list[_Row], limit: int
) -> dict[int, CloudInstance | None]:
    """Servers absent from the listing, asked for one by one: instance id -> server or None
    (the cloud does not know it). Instances whose server could not be read are left out."""
    if not missing:
        return {}

    async def fetch(row: _Row) -> tuple[int, CloudInstance | None, bool]:
        assert row.compute_id is not None
        try:
            return row.id, await client.backend.get_instance(row.compute_id), True
        except CloudError as exc:
            log.warning("instance=%s outcome=get_failed error=%r", row.id, str(exc))
            return row.id, None, False

    results = await gather_bounded(limit, (fetch(r) for r in missing))
    return {instance_id: server for instance_id, server, ok in results if ok}


def _apply(
    row: _Row,
    server: CloudInstance | None,
    confirmed: bool,
    last_command: InstanceCommandType | None,
    now: datetime,
) -> InstanceState | None:
    """Apply §2.3 to ``row``; returns the state to port-check towards, if any."""
    if row.state is InstanceState.DELETED:
        row.deleted_at = now  # VISA's updateAll: a DELETED instance is soft-deleted
        return None
    if row.compute_id is None or (server is None and not confirmed):
        return None  # no server yet, or not known whether it still exists
    change = next_instance_state(server, last_command)
    if change.update_ip:
        row.ip_address = change.ip_address
    if change.state is None:
        return None
    if change.state is InstanceState.DELETED:
        row.state = InstanceState.DELETED
        row.deleted_at = now
        return None
    if change.port_check:
        return change.state
    _set_state(row, change.state, now)
    return None


def _set_state(row: _Row, state: InstanceState, now: datetime) -> None:
    if row.active_at is None and row.previous in _BECOMING_ACTIVE and state in _ACTIVE:
        row.active_at = now
    row.state = state


async def _check_ports(
    ctx: EngineContext,
    catalogue: _Catalogue,
    checks: list[tuple[_Row, InstanceState]],
    now: datetime,
    limit: int,
) -> None:
    """Port-check the rows (each (address, port) probed once, ``limit`` probes at a time).

    What to probe and what the open ports mean depend only on the image and the VDI protocol:
    worked out once per such pair (and per set of open ports), not once per instance.
    """
    preference = ctx.settings.instance_default_protocol.value
    kinds: dict[tuple[int, int | None], tuple[Image, list[Protocol], list[int]]] = {}
    plans: list[tuple[_Row, InstanceState, tuple[int, int | None] | None]] = []
    targets: set[tuple[str, int]] = set()
    for row, wanted in checks:
        image = catalogue.images.get(row.image_id) if row.image_id is not None else None
        if image is None:
            plans.append((row, wanted, None))
            continue
        key = (image.id, row.vdi_protocol_id)
        if key not in kinds:
            chosen = catalogue.protocols.get(row.vdi_protocol_id or 0)
            required = required_protocols(chosen, image, preference, catalogue.rdp)
            kinds[key] = (image, required, ports_to_probe(required, image))
        plans.append((row, wanted, key))
        if row.ip_address:
            targets.update((row.ip_address, port) for port in kinds[key][2])
    opened: dict[str, set[int]] = {}
    for host, port in await _probe(ctx.probe, sorted(targets), ctx.port_timeout, limit):
        opened.setdefault(host, set()).add(port)
    outcomes: dict[tuple[tuple[int, int | None], frozenset[int]], PortCheck] = {}
    for row, wanted, kind in plans:
        if kind is None:
            _set_state(row, wanted, now)
            continue
        if not row.ip_address:
            _set_state(row, InstanceState.STARTING, now)
            continue
        found = frozenset(opened.get(row.ip_address, ()))
        result = outcomes.get((kind, found))
        if result is None:
            image, required, _ = kinds[kind]
            result = outcomes[kind, found] = port_check_outcome(required, image, set(found))
        if result.active_protocols is not None:
            row.active_protocols = result.active_protocols
        _set_state(row, result.state, now)


async def _probe(
    probe: PortProbe, targets: list[tuple[str, int]], seconds: float, limit: int
) -> set[tuple[str, int]]:
    """The open ones among ``targets``: ``limit`` workers, no task per probe."""
    opened: set[tuple[str, int]] = set()
    pending = iter(targets)

    async def worker() -> None:
        for host, port in pending:
            if await probe(host, port, seconds):
                opened.add((host, port))

    await asyncio.gather(*(worker() for _ in range(min(limit, len(targets)))))
    return opened


async def _save(ctx: EngineContext, changed: list[_Row], report: SyncReport) -> None:
    """One bulk UPDATE for the page, guarded by the state read (a user action meanwhile wins);
    then the changes that were applied are announced."""
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
            "b_id": r.id,
            "b_previous": r.previous.value,
            "b_state": r.state.value,
            "b_ip": r.ip_address,
            "b_protocols": r.active_protocols,
            "b_active_at": r.active_at,
            "b_deleted_at": r.deleted_at,
            "b_updated_at": now,
        }
        for r in changed
    ]
    deleted = [r.id for r in changed if r.state is InstanceState.DELETED]
    moved = {r.id: r for r in changed if r.state != r.previous}
    async with ctx.sessions() as session:
        await session.execute(statement, rows)
        await free_booking_tokens(session, deleted)
        await session.commit()
        # the events: the moved instances as saved, with their owner and VDI protocol
        saved: list[Any] = []
        if moved:
            saved = list(
                await session.scalars(
                    select(Instance)
                    .where(Instance.id.in_(list(moved)))
                    .options(selectinload(Instance.members), joinedload(Instance.vdi_protocol))
                    .order_by(Instance.id)
                )
            )
    report.changed += len(changed)
    notices: list[Notice] = [
        notice(ctx, instance, moved[instance.id].previous, None)
        for instance in saved
        if instance.state is moved[instance.id].state
    ]
    await announce(ctx, notices)


__all__ = ["PAGE_SIZE", "UNSTABLE_STATES", "SyncReport", "sync_states"]
