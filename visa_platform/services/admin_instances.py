"""Instances as administrators see them: search, counts, actions (spec/api.md §5.2-§5.4).

Administrators may act on any instance; the actions are the same as the owners' (REST) ones:
the transitional state now and a PENDING command for the lifecycle engine
(:func:`visa_platform.services.instances.act` and ``delete``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import (
    CloudProviderConfiguration,
    Experiment,
    Flavour,
    Image,
    Instance,
    InstanceDeviceAllocation,
    InstanceExpiration,
    InstanceMember,
    Plan,
    instance_experiment,
)
from visa_platform.domain.enums import InstanceCommandType, InstanceMemberRole, InstanceState
from visa_platform.domain.errors import BadRequest, NotFound
from visa_platform.services import instances


@dataclass(frozen=True)
class InstanceFilter:
    """``InstanceFilterInput``: every criterion optional, combined with AND."""

    ids: tuple[int, ...] | None = None
    name_like: str | None = None
    instrument_id: int | None = None
    image_id: int | None = None
    flavour_id: int | None = None
    device_pool_id: int | None = None
    state: InstanceState | None = None
    owner_id: str | None = None


ORDER_COLUMNS = {
    "id": Instance.id,
    "createdAt": Instance.created_at,
    "name": Instance.name,
    "state": Instance.state,
    "terminationDate": Instance.termination_date,
}
DEFAULT_ORDER = "name"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(criteria: InstanceFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [Instance.deleted_at.is_(None)]
    if criteria.ids is not None:
        clauses.append(Instance.id.in_(list(criteria.ids)))
    if criteria.name_like:
        pattern = f"%{_escape_like(criteria.name_like.lower())}%"
        clauses.append(func.lower(Instance.name).like(pattern, escape="\\"))
    if criteria.instrument_id is not None:
        clauses.append(
            Instance.id.in_(
                select(instance_experiment.c.instance_id)
                .join(Experiment, Experiment.id == instance_experiment.c.experiment_id)
                .where(Experiment.instrument_id == criteria.instrument_id)
            )
        )
    if criteria.image_id is not None:
        clauses.append(
            Instance.plan_id.in_(select(Plan.id).where(Plan.image_id == criteria.image_id))
        )
    if criteria.flavour_id is not None:
        clauses.append(
            Instance.plan_id.in_(select(Plan.id).where(Plan.flavour_id == criteria.flavour_id))
        )
    if criteria.device_pool_id is not None:
        clauses.append(
            Instance.id.in_(
                select(InstanceDeviceAllocation.instance_id).where(
                    InstanceDeviceAllocation.device_pool_id == criteria.device_pool_id
                )
            )
        )
    if criteria.state is not None:
        clauses.append(Instance.state == criteria.state)
    if criteria.owner_id is not None:
        clauses.append(
            Instance.id.in_(
                select(InstanceMember.instance_id).where(
                    InstanceMember.user_id == criteria.owner_id,
                    InstanceMember.role == InstanceMemberRole.OWNER,
                )
            )
        )
    return clauses


async def count(session: AsyncSession, criteria: InstanceFilter) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Instance).where(*_conditions(criteria))
    )
    return int(total or 0)


async def _page(
    session: AsyncSession, query: Select[Any], offset: int, limit: int | None
) -> list[Instance]:
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    ids = list(await session.scalars(query))
    return await instances.load(session, ids)


async def search(
    session: AsyncSession,
    criteria: InstanceFilter,
    order_name: str | None,
    ascending: bool,
    offset: int,
    limit: int | None,
) -> tuple[list[Instance], int]:
    """One page of matching non-deleted instances (fully loaded) and the number of matches.

    Unknown order names fall back to ``name`` (the original ignores them with a warning).
    """
    column = ORDER_COLUMNS.get(order_name or DEFAULT_ORDER, ORDER_COLUMNS[DEFAULT_ORDER])
    order = column.asc() if ascending else column.desc()
    query = select(Instance.id).where(*_conditions(criteria)).order_by(order, Instance.id)
    return await _page(session, query, offset, limit), await count(session, criteria)


async def recent(
    session: AsyncSession, offset: int, limit: int | None
) -> tuple[list[Instance], int]:
    """Non-deleted instances, newest first."""
    query = (
        select(Instance.id)
        .where(Instance.deleted_at.is_(None))
        .order_by(Instance.created_at.desc(), Instance.id.desc())
    )
    return await _page(session, query, offset, limit), await count(session, InstanceFilter())


async def count_for_states(
    session: AsyncSession, states: Sequence[InstanceState] | None
) -> list[tuple[InstanceState, int]]:
    """(state, count) of non-deleted instances for each state asked (all states if ``None``)."""
    wanted = list(dict.fromkeys(states)) if states is not None else list(InstanceState)
    rows = await session.execute(
        select(Instance.state, func.count())
        .where(Instance.deleted_at.is_(None), Instance.state.in_(wanted))
        .group_by(Instance.state)
    )
    found = {state: int(n) for state, n in rows}
    return [(state, found.get(state, 0)) for state in wanted]


@dataclass(frozen=True)
class CountBy:
    """How many non-deleted instances use one flavour, image or cloud."""

    id: int | None
    name: str | None
    total: int
    version: str | None = None


async def count_by_flavours(session: AsyncSession) -> list[CountBy]:
    rows = await session.execute(
        select(Flavour.id, Flavour.name, func.count(Instance.id))
        .join(Plan, Plan.flavour_id == Flavour.id)
        .join(Instance, Instance.plan_id == Plan.id)
        .where(Instance.deleted_at.is_(None))
        .group_by(Flavour.id, Flavour.name)
        .order_by(func.count(Instance.id).desc(), Flavour.id)
    )
    return [CountBy(i, n, int(t)) for i, n, t in rows]


async def count_by_images(session: AsyncSession) -> list[CountBy]:
    rows = await session.execute(
        select(Image.id, Image.name, Image.version, func.count(Instance.id))
        .join(Plan, Plan.image_id == Image.id)
        .join(Instance, Instance.plan_id == Plan.id)
        .where(Instance.deleted_at.is_(None))
        .group_by(Image.id, Image.name, Image.version)
        .order_by(func.count(Instance.id).desc(), Image.id)
    )
    return [CountBy(i, n, int(t), v) for i, n, v, t in rows]


async def count_by_clouds(session: AsyncSession, default_name: str) -> list[CountBy]:
    """Per cloud of the instances' images; the default cloud is id -1."""
    rows = await session.execute(
        select(
            Image.cloud_provider_configuration_id,
            CloudProviderConfiguration.name,
            func.count(Instance.id),
        )
        .join(Plan, Plan.image_id == Image.id)
        .join(Instance, Instance.plan_id == Plan.id)
        .outerjoin(
            CloudProviderConfiguration,
            CloudProviderConfiguration.id == Image.cloud_provider_configuration_id,
        )
        .where(Instance.deleted_at.is_(None))
        .group_by(Image.cloud_provider_configuration_id, CloudProviderConfiguration.name)
    )
    answer = [
        CountBy(
            cloud if cloud is not None else -1, name if cloud is not None else default_name, int(t)
        )
        for cloud, name, t in rows
    ]
    return sorted(answer, key=lambda c: (-c.total, c.id or 0))


async def get(session: AsyncSession, instance_id: int) -> Instance:
    """A non-deleted instance, fully loaded; NotFound otherwise."""
    found = await instances.load(session, [instance_id])
    if not found or found[0].deleted_at is not None:
        raise NotFound(f"Instance with id {instance_id} not found")
    return found[0]


ACTION_MESSAGES = {
    InstanceCommandType.REBOOT: "Instance will be rebooted",
    InstanceCommandType.START: "Instance will be started",
    InstanceCommandType.SHUTDOWN: "Instance will be shutdown",
}


async def act(
    session: AsyncSession, instance_id: int, admin_id: str, action: InstanceCommandType
) -> tuple[Instance, str]:
    """START, SHUTDOWN or REBOOT by an administrator; flushes. Returns the message to show."""
    instance = await get(session, instance_id)
    await instances.act(session, instance, admin_id, action)
    return instance, ACTION_MESSAGES[action]


async def delete(session: AsyncSession, instance_id: int, admin_id: str) -> tuple[Instance, str]:
    """Delete (or stop, then delete) as the owner's REST DELETE does; flushes."""
    instance = await get(session, instance_id)
    await instances.delete(session, instance, admin_id)
    return instance, "Instance is scheduled for deletion"


def parse_admin_date(value: str) -> datetime:
    """``yyyy-MM-dd HH:mm`` (UTC); seconds accepted too."""
    from datetime import UTC

    text = value.strip()
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise BadRequest(f"invalid date {value!r}: expected yyyy-MM-dd HH:mm")


async def update_termination_date(
    session: AsyncSession, instance_id: int, date: str | None
) -> tuple[Instance, str]:
    """Set or clear (``None``) the termination date; no email is sent (as the original).

    Any pending expiration goes (spec/domain.md §3.2): left in place, it would delete the
    instance at the old date.
    """
    instance = await get(session, instance_id)
    instance.termination_date = parse_admin_date(date) if date else None
    instance.expiration_date = None
    await session.execute(
        sql_delete(InstanceExpiration).where(InstanceExpiration.instance_id == instance.id)
    )
    await session.flush()
    return instance, "Instance termination date updated"
