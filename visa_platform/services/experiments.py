"""Experiments a user may see and use (spec/api.md §3.3, spec/domain.md §1.2, §4.6).

A user sees the experiments of whose team they are a member, plus, when open data is enabled and
asked for, the experiments whose proposal is public (``public_at <= now``). Experiments with a null
start or end date are invisible everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    UnaryExpression,
    and_,
    exists,
    extract,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, contains_eager

from visa_platform.db.models import Experiment, Instrument, Proposal, experiment_user
from visa_platform.db.types import utcnow

log = logging.getLogger("visa_platform.services.experiments")

ORDER_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "date": Experiment.start_date,
    "instrument": Instrument.name,
    "proposal": Proposal.identifier,
}
"""The accepted ``orderBy`` values and what they sort on."""


@dataclass(frozen=True)
class ExperimentFilter:
    """Filters of ``GET /account/experiments`` (dates filter the experiment *start* date).

    ``proposals`` and ``dois`` are OR-ed together when both are given; every other filter is
    AND-ed. ``include_open_data`` must already take the server configuration into account.
    """

    instrument_id: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    proposals: tuple[str, ...] = ()
    proposal_like: str | None = None
    dois: tuple[str, ...] = ()
    include_open_data: bool = False


@dataclass(frozen=True)
class ExperimentPage:
    """One page of experiments, the total count, and the requested identifiers not on it."""

    experiments: list[Experiment]
    count: int
    missing_proposals: list[str] = field(default_factory=list)
    missing_dois: list[str] = field(default_factory=list)


def _dated() -> ColumnElement[bool]:
    return and_(Experiment.start_date.is_not(None), Experiment.end_date.is_not(None))


def _team_member(user_id: str) -> ColumnElement[bool]:
    return exists().where(
        experiment_user.c.experiment_id == Experiment.id, experiment_user.c.user_id == user_id
    )


def _visible_to(user_id: str, include_open_data: bool, now: datetime) -> ColumnElement[bool]:
    """Dated, and the user is in the team (or the proposal is public, with open data)."""
    if include_open_data:
        public = Experiment.proposal_id.in_(
            select(Proposal.id).where(Proposal.public_at.is_not(None), Proposal.public_at <= now)
        )
        return and_(_dated(), or_(_team_member(user_id), public))
    return and_(_dated(), _team_member(user_id))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(user_id: str, criteria: ExperimentFilter, now: datetime) -> Select[Experiment]:
    """The user's experiments matching ``criteria``, joined to instrument and proposal."""
    query = (
        select(Experiment)
        .join(Experiment.instrument)
        .join(Experiment.proposal)
        .where(_visible_to(user_id, criteria.include_open_data, now))
    )
    if criteria.instrument_id is not None:
        query = query.where(Experiment.instrument_id == criteria.instrument_id)
    if criteria.start_date is not None:
        query = query.where(Experiment.start_date >= _day_start(criteria.start_date))
    if criteria.end_date is not None:
        # the whole end day is included (VISA compares with its midnight and drops that day)
        query = query.where(
            Experiment.start_date < _day_start(criteria.end_date) + timedelta(days=1)
        )
    if criteria.proposal_like:
        pattern = _escape_like(criteria.proposal_like.lower()) + "%"
        query = query.where(func.lower(Proposal.identifier).like(pattern, escape="\\"))
    identified: list[ColumnElement[bool]] = []
    if criteria.proposals:
        identified.append(Proposal.identifier.in_(criteria.proposals))
    if criteria.dois:
        identified.append(or_(Proposal.doi.in_(criteria.dois), Experiment.doi.in_(criteria.dois)))
    if identified:
        query = query.where(or_(*identified))
    return query


async def count_user_experiments(
    session: AsyncSession, user_id: str, criteria: ExperimentFilter, now: datetime | None = None
) -> int:
    """How many experiments of the user match ``criteria``."""
    inner = _filtered(user_id, criteria, now or utcnow()).with_only_columns(Experiment.id)
    count = await session.scalar(select(func.count()).select_from(inner.subquery()))
    return int(count or 0)


async def user_experiments(
    session: AsyncSession,
    user_id: str,
    criteria: ExperimentFilter,
    *,
    page: int = 1,
    limit: int = 25,
    order_by: str | None = None,
    descending: bool = False,
    now: datetime | None = None,
) -> ExperimentPage:
    """A page (1-based) of the user's experiments, with instrument and proposal loaded.

    ``order_by`` is ``date``, ``instrument`` or ``proposal``; anything else is ignored with a
    warning, as in VISA. The experiment id breaks ties so that pages never overlap.
    """
    now = now or utcnow()
    count = await count_user_experiments(session, user_id, criteria, now)
    query = _filtered(user_id, criteria, now).options(
        contains_eager(Experiment.instrument), contains_eager(Experiment.proposal)
    )
    ordering: list[UnaryExpression[Any]] = []
    if order_by is not None:
        column = ORDER_COLUMNS.get(order_by)
        if column is None:
            log.warning("event=experiments_unknown_order order_by=%r", order_by[:50])
        else:
            ordering.append(column.desc() if descending else column.asc())
    ordering.append(Experiment.id.desc() if descending else Experiment.id.asc())
    query = query.order_by(*ordering).offset((page - 1) * limit).limit(limit)
    experiments = list((await session.scalars(query)).unique())
    shown_proposals = {e.proposal.identifier for e in experiments}
    shown_dois = {e.doi if e.doi is not None else e.proposal.doi for e in experiments}
    return ExperimentPage(
        experiments,
        count,
        missing_proposals=[p for p in _unique(criteria.proposals) if p not in shown_proposals],
        missing_dois=[d for d in _unique(criteria.dois) if d not in shown_dois],
    )


async def experiment_years(
    session: AsyncSession, user_id: str, include_open_data: bool, now: datetime | None = None
) -> list[int]:
    """Distinct start years of the user's experiments (and of public ones, with open data)."""
    start: ColumnElement[datetime] = Experiment.start_date  # type: ignore[assignment]
    if session.get_bind().dialect.name == "postgresql":
        start = func.timezone("UTC", start)  # years in UTC, whatever the session's time zone
    year = extract("year", start)
    rows = await session.scalars(
        select(year)
        .distinct()
        .where(_visible_to(user_id, include_open_data, now or utcnow()))
        .order_by(year)
    )
    return [int(y) for y in rows if y is not None]


async def experiment_instruments(session: AsyncSession, user_id: str) -> list[Instrument]:
    """Instruments on which the user has (dated) experiments, by name."""
    query = (
        select(Instrument)
        .where(
            Instrument.id.in_(
                select(Experiment.instrument_id).where(_dated(), _team_member(user_id))
            )
        )
        .order_by(Instrument.name, Instrument.id)
    )
    return list(await session.scalars(query))


async def accessible_experiments(
    session: AsyncSession, user_id: str, experiment_ids: list[str], include_open_data: bool
) -> list[Experiment]:
    """The experiments among ``experiment_ids`` the user may attach to an instance (§4.6 rule 5).

    The user must be in the team, or, when ``include_open_data`` (the server's open-data setting)
    is on, the proposal must be public. Unknown and undated ids are left out; instrument and
    proposal are loaded.
    """
    ids = _unique(experiment_ids)
    if not ids:
        return []
    query = (
        select(Experiment)
        .join(Experiment.instrument)
        .join(Experiment.proposal)
        .where(Experiment.id.in_(ids), _visible_to(user_id, include_open_data, utcnow()))
        .options(contains_eager(Experiment.instrument), contains_eager(Experiment.proposal))
        .order_by(Experiment.id)
    )
    return list((await session.scalars(query)).unique())


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


__all__: Sequence[str] = [
    "ORDER_COLUMNS",
    "ExperimentFilter",
    "ExperimentPage",
    "accessible_experiments",
    "count_user_experiments",
    "experiment_instruments",
    "experiment_years",
    "user_experiments",
]
