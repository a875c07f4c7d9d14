"""Instance lifecycle (spec/domain.md §3.3, §3.4, §7 InstanceLifecycleJob): instances expire.

One pass, in VISA's order:

1. cancel the obsolete expirations (immortal instance; inactivity expiration with activity since
   it was created);
2. create the inactivity expirations (24 h before ``last_seen_at`` + the owner's maximum
   inactivity) and warn the owners;
3. create the lifetime expirations (48 h before ``termination_date``) and warn the owners;
4. execute the due expirations: the instance goes DELETING with a DELETE command (no user), the
   expiration is deleted and the owner is told.

Time comes from ``ctx.clock``. Every step works on pages of instances (or expirations) with a
fixed number of SQL statements per page, whatever the page size. Emails are queued only after
the page's transaction committed, each with an id derived from what it announces, so that the
outbox never sends one twice. A page of step 4 that fails is rolled back (the previous state and
the expiration stay, the expiration is retried at the next pass) and its expirations are retried
one by one, so that one broken instance does not hold back the others.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Row,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models import (
    Instance,
    InstanceCommand,
    InstanceExpiration,
    InstanceMember,
    User,
)
from visa_platform.domain.enums import InstanceCommandType, InstanceMemberRole, InstanceState
from visa_platform.notifications import messages
from visa_platform.notifications.model import Notification
from visa_platform.services.authorization import staff_owner_ids
from visa_platform.services.instance_actions import EngineContext, announce, notice
from visa_platform.services.instances import queue

log = logging.getLogger("visa_platform.lifecycle")

#: The inactivity warning comes this long before the deletion (a constant in VISA).
INACTIVITY_WARNING = timedelta(hours=24)
#: The lifetime warning comes this long before the termination date (a constant in VISA).
LIFETIME_WARNING = timedelta(hours=48)

PAGE_SIZE = 500


@dataclass
class LifecycleReport:
    """What one pass did (logs, tests, benchmarks)."""

    cancelled: int = 0
    inactivity_warnings: int = 0
    lifetime_warnings: int = 0
    deleting: int = 0
    already_deleted: int = 0
    failed: int = 0


# -- what the pages read ---------------------------------------------------------------------

_OWNER_COLUMNS = (
    InstanceMember.user_id.label("owner_id"),
    User.first_name,
    User.last_name,
    User.email,
)


def _with_owner(query: Any) -> Any:
    """``query`` joined (outer) to the owner member and their user row."""
    return query.outerjoin(
        InstanceMember,
        and_(
            InstanceMember.instance_id == Instance.id,
            InstanceMember.role == InstanceMemberRole.OWNER,
        ),
    ).outerjoin(User, User.id == InstanceMember.user_id)


def _unique(rows: Sequence[Row[Any]], key: str) -> list[Row[Any]]:
    """One row per ``key`` (an instance with two OWNER rows would otherwise come twice)."""
    seen: set[Any] = set()
    kept = []
    for row in rows:
        if getattr(row, key) not in seen:
            seen.add(getattr(row, key))
            kept.append(row)
    return kept


def _person(row: Row[Any], staff: set[str]) -> messages.Person:
    return messages.Person.of(row, ("STAFF",) if row.owner_id in staff else ())


def _info(row: Row[Any]) -> messages.InstanceInfo:
    return messages.InstanceInfo(row.instance_id, row.uid, row.name)


def _with_id(notification: Notification | None, *parts: object) -> Notification | None:
    """The notification with an id naming what it announces: queued twice, sent once."""
    if notification is None:
        return None
    return dataclasses.replace(notification, id="-".join(str(p) for p in parts)[:64])


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _instances() -> Table:
    return cast(Table, Instance.__table__)


# -- the pass ----------------------------------------------------------------------------------


async def run_lifecycle(ctx: EngineContext, *, page_size: int = PAGE_SIZE) -> LifecycleReport:
    """One pass of §3.3 steps 1-4 at ``ctx.clock.now()``."""
    now = ctx.clock.now()
    report = LifecycleReport()
    report.cancelled = await cancel_obsolete_expirations(ctx, now)
    report.inactivity_warnings = await create_inactivity_expirations(ctx, now, page_size)
    report.lifetime_warnings = await create_lifetime_expirations(ctx, now, page_size)
    await execute_expirations(ctx, now, page_size, report)
    if any(dataclasses.astuple(report)):
        log.info(
            "event=lifecycle cancelled=%d inactivity_warnings=%d lifetime_warnings=%d "
            "deleting=%d already_deleted=%d failed=%d",
            *dataclasses.astuple(report),
        )
    return report


async def cancel_obsolete_expirations(ctx: EngineContext, now: datetime) -> int:
    """Step 1, two statements whatever the number of expirations."""
    obsolete = or_(
        Instance.termination_date.is_(None),
        and_(
            Instance.termination_date > InstanceExpiration.expiration_date,
            Instance.last_seen_at > InstanceExpiration.created_at,
        ),
    )
    instance_ids = (
        select(InstanceExpiration.instance_id)
        .join(Instance, Instance.id == InstanceExpiration.instance_id)
        .where(obsolete)
    )
    table = _instances()
    async with ctx.sessions() as session:
        await session.execute(
            update(table)
            .where(table.c.id.in_(instance_ids))
            .values(expiration_date=None, updated_at=now)
        )
        result = await session.execute(
            delete(InstanceExpiration)
            .where(InstanceExpiration.instance_id.in_(instance_ids))
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def _inactivity_hours(ctx: EngineContext, staff: bool) -> int:
    settings = ctx.settings
    if staff:
        return settings.instance_staff_max_inactivity_duration_hours
    return settings.instance_user_max_inactivity_duration_hours


async def create_inactivity_expirations(ctx: EngineContext, now: datetime, page_size: int) -> int:
    """Step 2. Per page: the candidates, their owners' staff status, one insert, one update."""
    limits = messages.Limits.from_settings(ctx.settings)
    hours = {staff: _inactivity_hours(ctx, staff) for staff in (False, True)}
    # the widest window; each owner's own maximum is applied once their staff status is known
    seen_before = now - (timedelta(hours=min(hours.values())) - INACTIVITY_WARNING)
    created = 0
    after = 0
    while True:
        notifications: list[Notification | None] = []
        async with ctx.sessions() as session:
            rows = await _inactivity_candidates(session, seen_before, after, page_size)
            if not rows:
                return created
            after = rows[-1].instance_id
            staff = await staff_owner_ids(session, {r.owner_id for r in rows if r.owner_id}, now)
            chosen = []
            for row in rows:
                maximum = timedelta(hours=hours[row.owner_id in staff])
                if row.last_seen_at < now - (maximum - INACTIVITY_WARNING):
                    chosen.append((row, row.last_seen_at + maximum))
            if chosen:
                await _insert_expirations(session, [(r.instance_id, d) for r, d in chosen], now)
                await session.commit()
            for row, expiration_date in chosen:
                notification = messages.instance_expiring(
                    _person(row, staff), _info(row), expiration_date, limits
                )
                notifications.append(
                    _with_id(notification, "expiring", row.instance_id, _stamp(expiration_date))
                )
        created += len(chosen)
        for notification in notifications:  # after the commit
            ctx.notifications.notify(notification)
        if len(rows) < page_size:
            return created


async def _inactivity_candidates(
    session: AsyncSession, seen_before: datetime, after: int, size: int
) -> list[Row[Any]]:
    query = _with_owner(
        select(
            Instance.id.label("instance_id"),
            Instance.uid,
            Instance.name,
            Instance.last_seen_at,
            *_OWNER_COLUMNS,
        )
    ).where(
        Instance.id > after,
        Instance.deleted_at.is_(None),
        Instance.termination_date.is_not(None),  # immortal: never through inactivity
        Instance.booking_token_id.is_(None),  # booked: never through inactivity
        Instance.last_seen_at < seen_before,
        ~exists().where(InstanceExpiration.instance_id == Instance.id),
    )
    rows = (await session.execute(query.order_by(Instance.id).limit(size))).all()
    return _unique(rows, "instance_id")


async def create_lifetime_expirations(ctx: EngineContext, now: datetime, page_size: int) -> int:
    """Step 3. Per page: the candidates, their owners' staff status, one insert, one update."""
    limits = messages.Limits.from_settings(ctx.settings)
    created = 0
    after = 0
    while True:
        async with ctx.sessions() as session:
            query = _with_owner(
                select(
                    Instance.id.label("instance_id"),
                    Instance.uid,
                    Instance.name,
                    Instance.termination_date,
                    *_OWNER_COLUMNS,
                )
            ).where(
                Instance.id > after,
                Instance.deleted_at.is_(None),
                Instance.termination_date.is_not(None),
                Instance.termination_date < now + LIFETIME_WARNING,
                ~exists().where(InstanceExpiration.instance_id == Instance.id),
            )
            rows = _unique(
                (await session.execute(query.order_by(Instance.id).limit(page_size))).all(),
                "instance_id",
            )
            if not rows:
                return created
            after = rows[-1].instance_id
            staff = await staff_owner_ids(session, {r.owner_id for r in rows if r.owner_id}, now)
            await _insert_expirations(
                session, [(r.instance_id, r.termination_date) for r in rows], now
            )
            await session.commit()
        created += len(rows)
        for row in rows:  # after the commit
            notification = messages.instance_lifetime(
                _person(row, staff), _info(row), row.termination_date, limits
            )
            ctx.notifications.notify(
                _with_id(notification, "lifetime", row.instance_id, _stamp(row.termination_date))
            )
        if len(rows) < page_size:
            return created


async def _insert_expirations(
    session: AsyncSession, expirations: list[tuple[int, datetime]], now: datetime
) -> None:
    """One INSERT of the expirations (an existing one is kept: at most one per instance) and
    one UPDATE of the instances' ``expiration_date``."""
    if not expirations:
        return
    table = cast(Table, InstanceExpiration.__table__)
    if session.get_bind().dialect.name == "postgresql":
        statement: Any = pg_insert(table).on_conflict_do_nothing(index_elements=["instance_id"])
    else:
        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=["instance_id"])
    await session.execute(
        statement,
        [
            {"instance_id": i, "expiration_date": d, "created_at": now, "updated_at": now}
            for i, d in expirations
        ],
    )
    instances = _instances()
    await session.execute(
        update(instances)
        .where(instances.c.id == bindparam("b_id"))
        .values(expiration_date=bindparam("b_date"), updated_at=now),
        [{"b_id": i, "b_date": d} for i, d in expirations],
    )


# -- step 4 ----------------------------------------------------------------------------------


async def execute_expirations(
    ctx: EngineContext, now: datetime, page_size: int, report: LifecycleReport
) -> None:
    """Step 4, page by page of due expirations."""
    after = 0
    while True:
        async with ctx.sessions() as session:
            query = _with_owner(
                select(
                    InstanceExpiration.id.label("expiration_id"),
                    InstanceExpiration.expiration_date,
                    Instance.id.label("instance_id"),
                    Instance.uid,
                    Instance.name,
                    Instance.state,
                    Instance.deleted_at,
                    Instance.termination_date,
                    *_OWNER_COLUMNS,
                ).join(Instance, Instance.id == InstanceExpiration.instance_id)
            ).where(InstanceExpiration.id > after, InstanceExpiration.expiration_date <= now)
            rows = _unique(
                (
                    await session.execute(query.order_by(InstanceExpiration.id).limit(page_size))
                ).all(),
                "expiration_id",
            )
        if not rows:
            return
        after = rows[-1].expiration_id
        try:
            await _execute(ctx, rows, now, report)
        except Exception:
            # the page was rolled back: states and expirations are as they were; try each one
            # alone so that one failing instance does not hold back the others
            log.exception("event=lifecycle step=execute outcome=page_failed size=%d", len(rows))
            for row in rows:
                try:
                    await _execute(ctx, [row], now, report)
                except Exception as exc:
                    report.failed += 1
                    log.warning(
                        "event=lifecycle step=execute instance=%s outcome=failed "
                        "state_kept=%s error=%r",
                        row.instance_id,
                        row.state.value,
                        str(exc) or type(exc).__name__,
                    )
        if len(rows) < page_size:
            return


async def _execute(
    ctx: EngineContext, rows: list[Row[Any]], now: datetime, report: LifecycleReport
) -> None:
    """One transaction: the live instances go DELETING with a DELETE command (no user), every
    expiration of ``rows`` is deleted; the owners are told once it is committed."""
    live = [r for r in rows if r.deleted_at is None]
    gone = [r.instance_id for r in rows if r.deleted_at is not None]
    previous = {r.instance_id: r.state for r in live}
    changed: Sequence[Instance] = ()
    table = _instances()
    async with ctx.sessions() as session:
        staff = await staff_owner_ids(session, {r.owner_id for r in live if r.owner_id}, now)
        if live:
            await session.execute(
                update(table)
                .where(table.c.id.in_([r.instance_id for r in live]), table.c.deleted_at.is_(None))
                .values(state=InstanceState.DELETING.value, expiration_date=None, updated_at=now)
            )
            # queue() reads the instance's id only: a transient Instance, never added
            commands = [
                queue(Instance(id=r.instance_id), None, InstanceCommandType.DELETE) for r in live
            ]
            await session.execute(insert(InstanceCommand), [_values(c) for c in commands])
            changed = (
                await session.scalars(
                    select(Instance)
                    .where(Instance.id.in_([r.instance_id for r in live]))
                    .options(selectinload(Instance.members), selectinload(Instance.vdi_protocol))
                )
            ).all()
        if gone:
            await session.execute(
                update(table).where(table.c.id.in_(gone)).values(expiration_date=None)
            )
        await session.execute(
            delete(InstanceExpiration)
            .where(InstanceExpiration.id.in_([r.expiration_id for r in rows]))
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    report.deleting += len(live)
    report.already_deleted += len(gone)
    limits = messages.Limits.from_settings(ctx.settings)
    for row in live:  # after the commit
        reason = messages.deletion_reason(row.termination_date, row.expiration_date)
        notification = messages.instance_deleted(_person(row, staff), _info(row), reason, limits)
        ctx.notifications.notify(_with_id(notification, "deleted", row.instance_id))
    notices = [
        notice(ctx, i, previous[i.id], None)
        for i in changed
        if i.state is InstanceState.DELETING and previous[i.id] is not InstanceState.DELETING
    ]
    try:  # hooks and the owners' browsers; what is committed stays committed
        await announce(ctx, notices)
    except Exception:
        log.exception("event=lifecycle step=execute outcome=announce_failed")


def _values(row: Any) -> dict[str, Any]:
    """The column values set on a new ORM object, for one multi-row INSERT of many of them."""
    return {
        attr.key: getattr(row, attr.key)
        for attr in inspect(row).mapper.column_attrs
        if attr.key in row.__dict__
    }


# -- activity (§3.4) -------------------------------------------------------------------------


async def on_instance_activated(session: AsyncSession, instance_id: int) -> bool:
    """VISA's ``onInstanceActivated``: a desktop connection or the owner's Jupyter request.

    Deletes the instance's expiration when it is an inactivity one (the termination date is
    null or later than the expiration date) and clears ``instance.expiration_date``; a lifetime
    expiration stays. Does not commit. Returns whether an expiration was deleted.
    """
    inactivity = (
        select(InstanceExpiration.id)
        .join(Instance, Instance.id == InstanceExpiration.instance_id)
        .where(
            InstanceExpiration.instance_id == instance_id,
            or_(
                Instance.termination_date.is_(None),
                Instance.termination_date > InstanceExpiration.expiration_date,
            ),
        )
    )
    expiration_id = await session.scalar(inactivity)
    if expiration_id is None:
        return False
    await session.execute(
        delete(InstanceExpiration)
        .where(InstanceExpiration.id == expiration_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Instance).where(Instance.id == instance_id).values(expiration_date=None)
    )
    return True


__all__ = [
    "INACTIVITY_WARNING",
    "LIFETIME_WARNING",
    "PAGE_SIZE",
    "LifecycleReport",
    "cancel_obsolete_expirations",
    "create_inactivity_expirations",
    "create_lifetime_expirations",
    "execute_expirations",
    "on_instance_activated",
    "run_lifecycle",
]
