"""The catalogue as administrators see it: images, flavours, plans, protocols, limits,
experiments (spec/api.md §5.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models import (
    Experiment,
    Flavour,
    FlavourDevice,
    FlavourLimit,
    FlavourRoleLifetime,
    Image,
    Instrument,
    Proposal,
    Protocol,
    Role,
    experiment_user,
)
from visa_platform.services.plans import admin_plans

IMAGE_LOAD = (
    selectinload(Image.protocols),
    selectinload(Image.default_vdi_protocol),
    selectinload(Image.secondary_vdi_protocol),
)
FLAVOUR_LOAD = (selectinload(Flavour.devices).selectinload(FlavourDevice.device_pool),)


async def images(session: AsyncSession) -> list[Image]:
    """Images that are not deleted, by name then version."""
    return list(
        await session.scalars(
            select(Image)
            .options(*IMAGE_LOAD)
            .where(Image.deleted.is_(False))
            .order_by(Image.name, Image.version, Image.id)
        )
    )


async def count_images(session: AsyncSession) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Image).where(Image.deleted.is_(False))
    )
    return int(total or 0)


async def flavours(session: AsyncSession) -> list[Flavour]:
    """Flavours that are not deleted, by cpu then memory."""
    return list(
        await session.scalars(
            select(Flavour)
            .options(*FLAVOUR_LOAD)
            .where(Flavour.deleted.is_(False))
            .order_by(Flavour.cpu, Flavour.memory, Flavour.id)
        )
    )


async def count_flavours(session: AsyncSession) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Flavour).where(Flavour.deleted.is_(False))
    )
    return int(total or 0)


async def plans(session: AsyncSession) -> list[object]:
    """Every usable plan (invisible images and clouds included)."""
    return list(await admin_plans(session))


async def protocols(session: AsyncSession) -> list[Protocol]:
    return list(await session.scalars(select(Protocol).order_by(Protocol.id)))


async def flavour_limits(session: AsyncSession) -> list[FlavourLimit]:
    """INSTRUMENT and ROLE limits of flavours that are not deleted."""
    return list(
        await session.scalars(
            select(FlavourLimit)
            .join(Flavour, Flavour.id == FlavourLimit.flavour_id)
            .options(selectinload(FlavourLimit.flavour).options(*FLAVOUR_LOAD))
            .where(Flavour.deleted.is_(False))
            .order_by(FlavourLimit.id)
        )
    )


@dataclass(frozen=True)
class RoleLifetime:
    """``RoleLifetime``: a flavour's maximum lifetime for a role (``role`` None: default)."""

    id: int
    role: Role | None
    lifetime_minutes: int


async def role_lifetimes(
    session: AsyncSession, flavour_ids: list[int]
) -> dict[int, list[RoleLifetime]]:
    rows = await session.execute(
        select(FlavourRoleLifetime, Role)
        .outerjoin(Role, Role.id == FlavourRoleLifetime.role_id)
        .where(FlavourRoleLifetime.flavour_id.in_(flavour_ids))
        .order_by(FlavourRoleLifetime.id)
    )
    found: dict[int, list[RoleLifetime]] = {}
    for lifetime, role in rows:
        found.setdefault(lifetime.flavour_id, []).append(
            RoleLifetime(lifetime.id, role, int(lifetime.duration_minutes))
        )
    return found


# -- experiments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentFilter:
    """``ExperimentFilterInput`` (the admin UI sends ``userId`` and ``proposalLike``)."""

    user_id: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    instrument_id: int | None = None
    proposals: tuple[str, ...] | None = None
    proposal_like: str | None = None
    dois: tuple[str, ...] | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _experiment_conditions(criteria: ExperimentFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        Experiment.start_date.is_not(None),
        Experiment.end_date.is_not(None),
    ]
    if criteria.user_id is not None:
        clauses.append(
            Experiment.id.in_(
                select(experiment_user.c.experiment_id).where(
                    experiment_user.c.user_id == criteria.user_id
                )
            )
        )
    if criteria.start_date is not None:
        clauses.append(Experiment.start_date >= criteria.start_date)
    if criteria.end_date is not None:
        clauses.append(Experiment.start_date <= criteria.end_date)
    if criteria.instrument_id is not None:
        clauses.append(Experiment.instrument_id == criteria.instrument_id)
    if criteria.proposals is not None:
        clauses.append(Proposal.identifier.in_(list(criteria.proposals)))
    if criteria.proposal_like:
        clauses.append(
            Proposal.identifier.like(f"{_escape_like(criteria.proposal_like)}%", escape="\\")
        )
    if criteria.dois is not None:
        dois = list(criteria.dois)
        clauses.append(Experiment.doi.in_(dois) | Proposal.doi.in_(dois))
    return clauses


EXPERIMENT_ORDER = {
    "date": (Experiment.start_date,),
    "instrument": (Instrument.name,),
    "proposal": (Proposal.identifier,),
}


async def search_experiments(
    session: AsyncSession,
    criteria: ExperimentFilter,
    order_name: str | None,
    ascending: bool,
    offset: int,
    limit: int | None,
) -> tuple[list[Experiment], int]:
    clauses = _experiment_conditions(criteria)
    columns = EXPERIMENT_ORDER.get(order_name or "", (Experiment.id,))
    query = (
        select(Experiment)
        .join(Proposal, Proposal.id == Experiment.proposal_id)
        .join(Instrument, Instrument.id == Experiment.instrument_id)
        .where(*clauses)
        .options(selectinload(Experiment.proposal), selectinload(Experiment.instrument))
        .order_by(*(c.asc() if ascending else c.desc() for c in columns), Experiment.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = list(await session.scalars(query))
    return rows, await count_experiments(session, criteria)


async def count_experiments(session: AsyncSession, criteria: ExperimentFilter) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(Experiment)
        .join(Proposal, Proposal.id == Experiment.proposal_id)
        .where(*_experiment_conditions(criteria))
    )
    return int(total or 0)
