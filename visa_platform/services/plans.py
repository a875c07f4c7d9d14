"""Plans a user may pick, and how long their instances may live (spec/domain.md §1.3, §3.2, §4.6).

A plan is *usable* when the plan, its image and its flavour are not deleted and the image's cloud
is not deleted. Non-administrators also need a visible image on a visible cloud. On top of that,
a flavour with INSTRUMENT or ROLE limits is offered only to users those limits let in:

* ``plans_for_user_and_all_instruments``: the flavour has no limits; or the user is instrument
  scientist of one of its limited instruments; or the user holds one of its limited roles/groups;
* ``plans_for_user_and_experiments``: the same, or one of the experiments is on a limited
  instrument;
* ``admin_plans``: every usable plan, invisible images and clouds included, limits ignored.

Each query loads every plan with a fixed number of statements, whatever the number of plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager, selectinload

from visa_platform.config import Settings
from visa_platform.db.models import (
    CloudProviderConfiguration,
    Experiment,
    Flavour,
    FlavourDevice,
    FlavourLimit,
    FlavourRoleLifetime,
    Image,
    Plan,
    Role,
    UserRole,
    instrument_scientist,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import FlavourLimitObjectType

STAFF_ROLE = "STAFF"


@dataclass(frozen=True)
class FlavourAvailability:
    """Whether a flavour can be instantiated now, and from when (``None`` = not forecast)."""

    available: bool = True
    available_at: datetime | None = None


# --- Queries --------------------------------------------------------------------------------


def _usable_plans(*, admin: bool) -> Select[Plan]:
    """Usable plans with image, protocols, flavour and devices loaded, sorted by cpu then memory."""
    cloud = aliased(CloudProviderConfiguration)
    query = (
        select(Plan)
        .join(Plan.image)
        .join(Plan.flavour)
        .outerjoin(cloud, cloud.id == Image.cloud_provider_configuration_id)
        .where(
            Plan.deleted_at.is_(None),
            Image.deleted.is_(False),
            Flavour.deleted.is_(False),
            cloud.deleted_at.is_(None),
        )
        .options(
            contains_eager(Plan.image).selectinload(Image.protocols),
            contains_eager(Plan.image).selectinload(Image.default_vdi_protocol),
            contains_eager(Plan.image).selectinload(Image.secondary_vdi_protocol),
            contains_eager(Plan.flavour)
            .selectinload(Flavour.devices)
            .selectinload(FlavourDevice.device_pool),
        )
        .order_by(Flavour.cpu, Flavour.memory, Plan.id)
    )
    if not admin:
        query = query.where(Image.visible.is_(True), func.coalesce(cloud.visible, true()).is_(True))
    return query


def _limit(kind: FlavourLimitObjectType) -> ColumnElement[bool]:
    return and_(FlavourLimit.flavour_id == Plan.flavour_id, FlavourLimit.object_type == kind)


def _limits_let_in(
    user_id: str, experiment_ids: Sequence[str], now: datetime
) -> ColumnElement[bool]:
    """The flavour-limit clause of §4.6 for ``user_id`` (and the experiments, if any)."""
    unlimited = ~exists().where(
        FlavourLimit.flavour_id == Plan.flavour_id,
        FlavourLimit.object_type.in_(
            [FlavourLimitObjectType.INSTRUMENT, FlavourLimitObjectType.ROLE]
        ),
    )
    scientist = exists().where(
        _limit(FlavourLimitObjectType.INSTRUMENT),
        instrument_scientist.c.instrument_id == FlavourLimit.object_id,
        instrument_scientist.c.user_id == user_id,
    )
    # Fix over VISA (quirk §11.3): an expired role no longer opens a limited flavour.
    role = exists().where(
        _limit(FlavourLimitObjectType.ROLE),
        UserRole.role_id == FlavourLimit.object_id,
        UserRole.user_id == user_id,
        or_(UserRole.expires_at.is_(None), UserRole.expires_at > now),
        Role.id == UserRole.role_id,
        Role.group_deleted_at.is_(None),
    )
    clauses = [unlimited, scientist, role]
    if experiment_ids:
        clauses.append(
            exists().where(
                _limit(FlavourLimitObjectType.INSTRUMENT),
                Experiment.instrument_id == FlavourLimit.object_id,
                Experiment.id.in_(list(experiment_ids)),
                Experiment.start_date.is_not(None),
                Experiment.end_date.is_not(None),
            )
        )
    return or_(*clauses)


async def plans_for_user_and_experiments(
    session: AsyncSession, user_id: str, experiment_ids: list[str]
) -> list[Plan]:
    """Visible plans ``user_id`` may use for these experiments (unknown ids are ignored)."""
    query = _usable_plans(admin=False).where(
        _limits_let_in(user_id, _unique(experiment_ids), utcnow())
    )
    return list((await session.scalars(query)).unique())


async def plans_for_user_and_all_instruments(session: AsyncSession, user_id: str) -> list[Plan]:
    """Visible plans ``user_id`` may use without experiments (roles, groups, scientist rows)."""
    query = _usable_plans(admin=False).where(_limits_let_in(user_id, [], utcnow()))
    return list((await session.scalars(query)).unique())


async def admin_plans(session: AsyncSession) -> list[Plan]:
    """Every usable plan, including invisible images and clouds; flavour limits do not apply."""
    return list((await session.scalars(_usable_plans(admin=True))).unique())


async def visible_plans_for_flavour(session: AsyncSession, flavour_id: int) -> list[Plan]:
    """Visible plans of one flavour, without user or limit filtering (booking-token creation)."""
    query = _usable_plans(admin=False).where(Plan.flavour_id == flavour_id)
    return list((await session.scalars(query)).unique())


async def plan_by_id(session: AsyncSession, plan_id: int) -> Plan | None:
    """A plan that is not deleted, with the same relations loaded as the listings.

    Deleted images, flavours or clouds do not hide it: callers that need a *usable* plan check
    membership in one of the listings above.
    """
    query = (
        select(Plan)
        .where(Plan.id == plan_id, Plan.deleted_at.is_(None))
        .options(
            selectinload(Plan.image).selectinload(Image.protocols),
            selectinload(Plan.image).selectinload(Image.default_vdi_protocol),
            selectinload(Plan.image).selectinload(Image.secondary_vdi_protocol),
            selectinload(Plan.flavour)
            .selectinload(Flavour.devices)
            .selectinload(FlavourDevice.device_pool),
        )
    )
    plan = await session.scalar(query)
    if plan is None or plan.image is None or plan.flavour is None:
        return None
    return plan


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --- Lifetimes ------------------------------------------------------------------------------


async def max_lifetimes_minutes(
    session: AsyncSession,
    flavour_ids: Iterable[int],
    role_names: Iterable[str],
    settings: Settings,
) -> dict[int, int]:
    """``maxDuration(user, flavour)`` (§3.2) for several flavours in one query.

    Per flavour: its ``flavour_role_lifetime`` rows, plus (STAFF, staff maximum) when it has no
    STAFF row and (default, user maximum) when it has no default row; keep the default rows and
    those of the user's active roles (groups never count); the answer is the largest kept.
    """
    ids = sorted(set(flavour_ids))
    held = set(role_names)
    rows: dict[int, list[tuple[str | None, int]]] = {i: [] for i in ids}
    if ids:
        result = await session.execute(
            select(FlavourRoleLifetime.flavour_id, Role.name, FlavourRoleLifetime.duration_minutes)
            .outerjoin(Role, Role.id == FlavourRoleLifetime.role_id)
            .where(FlavourRoleLifetime.flavour_id.in_(ids))
        )
        for flavour_id, role_name, minutes in result:
            rows[flavour_id].append((role_name, int(minutes)))
    staff = settings.instance_staff_max_lifetime_duration_hours * 60
    user = settings.instance_user_max_lifetime_duration_hours * 60
    answer: dict[int, int] = {}
    for flavour_id, found in rows.items():
        names = {name for name, _ in found}
        if STAFF_ROLE not in names:
            found.append((STAFF_ROLE, staff))
        if None not in names:
            found.append((None, user))
        answer[flavour_id] = max(m for name, m in found if name is None or name in held)
    return answer


async def max_lifetime_minutes(
    session: AsyncSession, flavour_id: int, role_names: Iterable[str], settings: Settings
) -> int:
    """The longest lifetime (minutes) a user with ``role_names`` may give a flavour's instance."""
    lifetimes = await max_lifetimes_minutes(session, [flavour_id], role_names, settings)
    return lifetimes[flavour_id]


async def catalogue_plan(session: AsyncSession, plan_id: int, *, admin: bool) -> Plan | None:
    """One usable plan (visible too, unless ``admin``); flavour limits are not applied."""
    query = _usable_plans(admin=admin).where(Plan.id == plan_id)
    return (await session.scalars(query)).unique().one_or_none()
