"""Instances for their users: reading, creating, changing, deleting, and queuing actions.

Rules are spec/domain.md §4.4-§4.6 and spec/api.md §3.4. Actions are only *queued* here as
PENDING instance commands; the lifecycle engine executes them against the cloud.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from visa_platform.config import Settings
from visa_platform.db.models import (
    Experiment,
    Flavour,
    FlavourDevice,
    Image,
    Instance,
    InstanceAttribute,
    InstanceCommand,
    InstanceDeviceAllocation,
    InstanceMember,
    Plan,
    Protocol,
    User,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import (
    InstanceCommandState,
    InstanceCommandType,
    InstanceMemberRole,
    InstanceState,
)
from visa_platform.domain.errors import BadRequest, NotAuthorized, NotFound
from visa_platform.domain.principal import Principal
from visa_platform.services.authorization import (
    Access,
    Caller,
    InstanceFacts,
    access,
    staff_owner_ids,
)

UID_ALPHABET = string.ascii_letters + string.digits
UID_LENGTH = 8

LOAD_INSTANCE = (
    # collections: one SELECT ... IN each; their many-to-one ends ride along in a JOIN
    selectinload(Instance.members).joinedload(InstanceMember.user).joinedload(User.affiliation),
    selectinload(Instance.experiments).joinedload(Experiment.proposal),
    selectinload(Instance.experiments).joinedload(Experiment.instrument),
    # many-to-one: joined to the instance rows themselves
    joinedload(Instance.plan).joinedload(Plan.image).selectinload(Image.protocols),
    joinedload(Instance.plan).joinedload(Plan.image).joinedload(Image.default_vdi_protocol),
    joinedload(Instance.plan).joinedload(Plan.image).joinedload(Image.secondary_vdi_protocol),
    joinedload(Instance.plan)
    .joinedload(Plan.flavour)
    .selectinload(Flavour.devices)
    .joinedload(FlavourDevice.device_pool),
    joinedload(Instance.vdi_protocol),
)
"""Everything an InstanceDto shows, in a fixed number of queries whatever the number of rows."""

STOPPABLE_DELETE_STATES = frozenset(
    {
        InstanceState.STOPPED,
        InstanceState.ERROR,
        InstanceState.UNKNOWN,
        InstanceState.MIGRATING,
        InstanceState.UNAVAILABLE,
    }
)


def new_uid() -> str:
    """8 random alphanumerics with at least one letter (so a uid never looks like an id)."""
    while True:
        uid = "".join(secrets.choice(UID_ALPHABET) for _ in range(UID_LENGTH))
        if not uid.isdigit():
            return uid


def parse_reference(reference: str) -> tuple[str, int | str]:
    """A path's ``{instance}``: digits are an id, other alphanumerics a uid; anything else 404."""
    if reference.isdigit() and len(reference) < 19:
        return "id", int(reference)
    if reference.isalnum() and reference.isascii() and len(reference) <= 16:
        return "uid", reference
    raise NotFound("instance not found")


async def load(
    session: AsyncSession, ids: Sequence[int], *, refresh: bool = True
) -> list[Instance]:
    """Instances with everything their DTO needs, in the order of ``ids`` (5 statements).

    ``refresh`` overwrites what the session already holds of these rows (needed after a change
    made around the ORM, such as a member row added for an accepted invitation). Reads at the
    start of a request pass ``refresh=False``: there is nothing stale to overwrite, and
    re-populating every loaded object costs time on the busiest listings.
    """
    if not ids:
        return []
    query = select(Instance).options(*LOAD_INSTANCE).where(Instance.id.in_(ids))
    if refresh:
        query = query.execution_options(populate_existing=True)
    rows = (await session.scalars(query)).all()
    by_id = {i.id: i for i in rows}
    return [by_id[i] for i in ids if i in by_id]


async def find(session: AsyncSession, reference: str, *, uid_only: bool = False) -> Instance:
    """A non-deleted instance by id or uid, fully loaded; 404 otherwise."""
    kind, value = ("uid", reference) if uid_only else parse_reference(reference)
    column = Instance.uid if kind == "uid" else Instance.id
    found = await session.scalar(
        select(Instance.id).where(column == value, Instance.deleted_at.is_(None))
    )
    if found is None:
        raise NotFound("instance not found")
    return (await load(session, [found], refresh=False))[0]


async def facts(session: AsyncSession, instances: Sequence[Instance]) -> dict[int, InstanceFacts]:
    """The predicates' inputs for loaded instances (one query for the owners' STAFF role)."""
    owners = {
        i.id: next((m.user_id for m in i.members if m.role is InstanceMemberRole.OWNER), None)
        for i in instances
    }
    staff = await staff_owner_ids(session, [o for o in owners.values() if o is not None])
    return {
        i.id: InstanceFacts(i, i.members, i.experiments, owners[i.id] in staff) for i in instances
    }


async def access_to(session: AsyncSession, caller: Caller, instance: Instance) -> Access:
    return access(caller, (await facts(session, [instance]))[instance.id], utcnow())


async def member_instances(session: AsyncSession, user_id: str) -> list[Instance]:
    """Non-deleted instances where the user is a member with any role, newest first, loaded as
    :func:`load` does (one statement fewer than finding the ids first)."""
    memberships = select(InstanceMember.instance_id).where(InstanceMember.user_id == user_id)
    rows = await session.scalars(
        select(Instance)
        .options(*LOAD_INSTANCE)
        .where(Instance.id.in_(memberships), Instance.deleted_at.is_(None))
        .order_by(Instance.id.desc())
    )
    return list(rows.all())


async def count_member_instances(session: AsyncSession, user_id: str) -> int:
    count = await session.scalar(
        select(func.count(func.distinct(Instance.id)))
        .join(InstanceMember, InstanceMember.instance_id == Instance.id)
        .where(InstanceMember.user_id == user_id, Instance.deleted_at.is_(None))
    )
    return int(count or 0)


def queue(instance: Instance, user_id: str | None, action: InstanceCommandType) -> InstanceCommand:
    """A PENDING command for the lifecycle engine (persisted with the user who asked)."""
    return InstanceCommand(
        instance_id=instance.id,
        user_id=user_id,
        action_type=action,
        state=InstanceCommandState.PENDING,
    )


# -- creation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creation:
    """A validated ``InstanceCreatorDto``."""

    name: str
    comments: str | None
    plan_id: int
    lifetime_minutes: int | None
    screen_width: int
    screen_height: int
    experiment_ids: tuple[str, ...]
    keyboard_layout: str
    vdi_protocol_id: int | None
    booking_token_id: int | None


def default_vdi_protocol(image: Image, preference: str) -> Protocol | None:
    """spec/domain.md §2.6: the image's default, else GUACD/WEBX by the configured preference."""
    if image.default_vdi_protocol is not None:
        return image.default_vdi_protocol
    by_name = {p.name: p for p in image.protocols}
    order = ("GUACD", "WEBX") if preference == "GUACD" else ("WEBX", "GUACD")
    for name in order:
        if name in by_name:
            return by_name[name]
    return None


async def create(
    session: AsyncSession,
    principal: Principal,
    caller: Caller,
    creation: Creation,
    settings: Settings,
    now: datetime | None = None,
) -> Instance:
    """Create an instance and queue its CREATE command (spec/domain.md §4.6). Flushes."""
    from visa_platform.services import experiments as experiment_rules
    from visa_platform.services import plans as plan_rules
    from visa_platform.services.quotas import owned_instance_count

    now = now or utcnow()
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotAuthorized("unknown user")
    if creation.booking_token_id is not None:
        raise BadRequest("Booking token does not exist")
    unlimited = user.instance_quota == -1
    if not unlimited and await owned_instance_count(session, user.id) >= user.instance_quota:
        raise BadRequest("Instance quota exceeded")
    layouts = {k.layout for k in settings.client_config_desktop_keyboard_layouts}
    if creation.keyboard_layout not in layouts:
        raise BadRequest(f"unknown keyboard layout {creation.keyboard_layout!r}")
    plan = await plan_rules.plan_by_id(session, creation.plan_id)
    if plan is None or plan.image is None or plan.flavour is None:
        raise BadRequest("Invalid plan")

    wanted = list(dict.fromkeys(creation.experiment_ids))
    allowed = await experiment_rules.accessible_experiments(
        session,
        user.id,
        wanted,
        settings.client_config_include_open_data,
    )
    if len(allowed) != len(wanted):
        raise NotAuthorized("you may not use some of these experiments")
    if caller.is_admin:
        usable = await plan_rules.admin_plans(session)
    elif not allowed:
        if not caller.roles & {"ADMIN", "STAFF", "GUEST"}:
            raise NotAuthorized("an instance needs at least one experiment")
        usable = await plan_rules.plans_for_user_and_all_instruments(session, user.id)
    else:
        usable = await plan_rules.plans_for_user_and_experiments(
            session, user.id, [e.id for e in allowed]
        )
    if plan.id not in {p.id for p in usable}:
        raise NotAuthorized("you may not use this plan")

    protocol = None
    if creation.vdi_protocol_id is not None:
        protocol = await session.get(Protocol, creation.vdi_protocol_id)
    if protocol is None:
        protocol = default_vdi_protocol(
            plan.image,
            settings.instance_default_protocol.value,
        )

    max_minutes = await plan_rules.max_lifetime_minutes(
        session, plan.flavour.id, caller.roles, settings
    )
    lifetime = creation.lifetime_minutes
    if lifetime is None or lifetime <= 0 or lifetime > max_minutes:
        lifetime = max_minutes

    instance = Instance(
        uid=await _unused_uid(session),
        name=creation.name,
        comments=creation.comments,
        plan_id=plan.id,
        username=principal.username,
        state=InstanceState.BUILDING,
        screen_width=creation.screen_width,
        screen_height=creation.screen_height,
        keyboard_layout=creation.keyboard_layout,
        last_seen_at=now,
        termination_date=now + timedelta(minutes=lifetime),
        lifetime_minutes=lifetime,
        vdi_protocol_id=protocol.id if protocol is not None else None,
        delete_requested=False,
    )
    instance.members = [InstanceMember(user_id=user.id, role=InstanceMemberRole.OWNER)]
    instance.experiments = list(allowed)
    instance.attributes = [
        InstanceAttribute(name=name[:255], value=value[:255])
        for name, value in principal.attributes.items()
    ]
    session.add(instance)
    await session.flush()
    for device in plan.flavour.devices:
        session.add(
            InstanceDeviceAllocation(
                instance_id=instance.id,
                device_pool_id=device.device_pool_id,
                unit_count=device.unit_count,
            )
        )
    session.add(queue(instance, user.id, InstanceCommandType.CREATE))
    await session.flush()
    return instance


async def _unused_uid(session: AsyncSession) -> str:
    while True:
        uid = new_uid()
        taken = await session.scalar(
            select(Instance.id).where(Instance.uid == uid, Instance.deleted_at.is_(None))
        )
        if taken is None:
            return uid


# -- changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    """A validated ``InstanceUpdatorDto``."""

    name: str
    comments: str | None
    screen_width: int
    screen_height: int
    keyboard_layout: str
    unrestricted_access: bool
    vdi_protocol_id: int


async def update(
    session: AsyncSession, instance: Instance, change: Update, settings: Settings
) -> Instance:
    layouts = {k.layout for k in settings.client_config_desktop_keyboard_layouts}
    if change.keyboard_layout not in layouts:
        raise BadRequest(f"unknown keyboard layout {change.keyboard_layout!r}")
    instance.name = change.name
    instance.comments = change.comments
    instance.screen_width = change.screen_width
    instance.screen_height = change.screen_height
    instance.keyboard_layout = change.keyboard_layout
    if change.unrestricted_access:
        if instance.unrestricted_member_access is None:
            instance.unrestricted_member_access = utcnow()
    else:
        instance.unrestricted_member_access = None
    protocol = await session.get(Protocol, change.vdi_protocol_id)
    if protocol is not None:
        instance.vdi_protocol_id = protocol.id
        instance.vdi_protocol = protocol
    await session.flush()
    return instance


ACTION_STATES = {
    InstanceCommandType.START: InstanceState.STARTING,
    InstanceCommandType.SHUTDOWN: InstanceState.STOPPING,
    InstanceCommandType.REBOOT: InstanceState.REBOOTING,
}


async def act(
    session: AsyncSession, instance: Instance, user_id: str, action: InstanceCommandType
) -> Instance:
    """START, SHUTDOWN or REBOOT: the transitional state now, the command for the engine."""
    instance.state = ACTION_STATES[action]
    session.add(queue(instance, user_id, action))
    await session.flush()
    return instance


async def delete(session: AsyncSession, instance: Instance, user_id: str) -> Instance:
    """Delete at once when there is nothing running; otherwise stop first, then delete."""
    if instance.compute_id is None or instance.state in STOPPABLE_DELETE_STATES:
        instance.state = InstanceState.DELETING
        session.add(queue(instance, user_id, InstanceCommandType.DELETE))
    else:
        instance.delete_requested = True
        if instance.state is not InstanceState.STOPPING:
            instance.state = InstanceState.STOPPING
            session.add(queue(instance, user_id, InstanceCommandType.SHUTDOWN))
    await session.flush()
    return instance


async def history(session: AsyncSession, instance: Instance) -> list[InstanceCommand]:
    rows = await session.scalars(
        select(InstanceCommand)
        .where(InstanceCommand.instance_id == instance.id)
        .order_by(InstanceCommand.id)
    )
    return list(rows)
