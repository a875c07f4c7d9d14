"""Changes administrators make to the catalogue: images, flavours, plans (spec/api.md §5.4).

The cloud side is checked by the caller, which passes what the cloud offers (the image or
flavour ids of the chosen cloud): an image or flavour must exist in its cloud. Deletion is soft.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption

from visa_platform.db.models import (
    CloudProviderConfiguration,
    Flavour,
    FlavourLimit,
    FlavourRoleLifetime,
    Image,
    Instrument,
    Plan,
    Protocol,
    Role,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import FlavourLimitObjectType, ImageAutoAcceptExtensionRequest
from visa_platform.domain.errors import BadRequest, NotFound
from visa_platform.services.admin_catalogue import FLAVOUR_LOAD, IMAGE_LOAD

#: The catalogue rows loaded by :func:`_live`.
Row = TypeVar("Row", Image, Flavour, Plan)


def _text(value: str | None, field: str, maximum: int, *, required: bool = False) -> str | None:
    if value is None or (not value.strip() and not required):
        if required:
            raise BadRequest(f"{field} is required")
        return None
    if required and not value.strip():
        raise BadRequest(f"{field} is required")
    if len(value) > maximum:
        raise BadRequest(f"{field} has at most {maximum} characters")
    return value


async def cloud_row_id(session: AsyncSession, cloud_id: int | None) -> int | None:
    """The ``cloud_provider_configuration_id`` of an input's cloud id (null, <= 0: default)."""
    if cloud_id is None or cloud_id <= 0:
        return None
    row = await session.get(CloudProviderConfiguration, cloud_id)
    if row is None or row.deleted_at is not None:
        raise BadRequest(f"cloud client {cloud_id} does not exist")
    return row.id


async def _live(session: AsyncSession, model: type[Row], row_id: int, *load: ORMOption) -> Row:
    """The row ``row_id`` of ``model``, read afresh with ``load``; NotFound ("Image with id 3 not
    found") when there is none or it is soft-deleted."""
    query = select(model).options(*load).where(model.id == row_id)
    row = await session.scalar(query.execution_options(populate_existing=True))
    if row is None or (row.deleted_at is not None if isinstance(row, Plan) else row.deleted):
        raise NotFound(f"{model.__name__} with id {row_id} not found")
    return row


def _in_cloud(compute_id: str, offered: Collection[str], what: str) -> None:
    if compute_id not in offered:
        raise BadRequest(f"the cloud has no {what} {compute_id!r}")


# -- images ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageChange:
    """``ImageInput``."""

    name: str
    version: str | None
    description: str | None
    icon: str | None
    cloud_id: int | None
    compute_id: str
    visible: bool
    protocol_ids: tuple[int, ...]
    boot_command: str | None
    autologin: str | None
    default_vdi_protocol_id: int
    secondary_vdi_protocol_id: int | None
    auto_accept_extension_request: ImageAutoAcceptExtensionRequest | None


async def _protocol(session: AsyncSession, protocol_id: int, field: str) -> Protocol:
    found = await session.get(Protocol, protocol_id)
    if found is None:
        raise BadRequest(f"{field}: protocol {protocol_id} does not exist")
    return found


async def _apply_image(
    session: AsyncSession, image: Image, change: ImageChange, offered: Collection[str]
) -> None:
    image.name = _text(change.name, "name", 250, required=True) or ""
    image.version = _text(change.version, "version", 100)
    image.description = _text(change.description, "description", 2500)
    image.icon = _text(change.icon, "icon", 100) or ""
    image.boot_command = _text(change.boot_command, "bootCommand", 16000)
    image.autologin = _text(change.autologin, "autologin", 255)
    image.cloud_provider_configuration_id = await cloud_row_id(session, change.cloud_id)
    _in_cloud(change.compute_id, offered, "image")
    image.compute_id = change.compute_id
    image.visible = change.visible
    image.auto_accept_extension_request = change.auto_accept_extension_request
    image.default_vdi_protocol = await _protocol(
        session, change.default_vdi_protocol_id, "defaultVdiProtocolId"
    )
    image.secondary_vdi_protocol = (
        await _protocol(session, change.secondary_vdi_protocol_id, "secondaryVdiProtocolId")
        if change.secondary_vdi_protocol_id is not None
        else None
    )
    image.protocols = [
        await _protocol(session, i, "protocolIds") for i in dict.fromkeys(change.protocol_ids)
    ]


async def load_image(session: AsyncSession, image_id: int) -> Image:
    return await _live(session, Image, image_id, *IMAGE_LOAD)


async def create_image(
    session: AsyncSession, change: ImageChange, offered: Collection[str]
) -> Image:
    image = Image(deleted=False)
    image.protocols = []
    await _apply_image(session, image, change, offered)
    session.add(image)
    await session.flush()
    return await load_image(session, image.id)


async def update_image(
    session: AsyncSession, image_id: int, change: ImageChange, offered: Collection[str]
) -> Image:
    image = await load_image(session, image_id)
    await _apply_image(session, image, change, offered)
    await session.flush()
    return await load_image(session, image.id)


async def delete_image(session: AsyncSession, image_id: int) -> Image:
    image = await load_image(session, image_id)
    image.deleted = True
    await session.flush()
    return image


# -- flavours ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlavourChange:
    """``FlavourInput``; ``role_lifetimes`` are (role id or None for the default, minutes)."""

    name: str
    memory: int
    cpu: float
    cloud_id: int | None
    compute_id: str
    instrument_ids: tuple[int, ...]
    role_ids: tuple[int, ...]
    role_lifetimes: tuple[tuple[int | None, int], ...]


async def load_flavour(session: AsyncSession, flavour_id: int) -> Flavour:
    return await _live(session, Flavour, flavour_id, *FLAVOUR_LOAD)


async def _existing(session: AsyncSession, column: Any, ids: Collection[int], what: str) -> None:
    if not ids:
        return
    found = set(await session.scalars(select(column).where(column.in_(list(ids)))))
    missing = set(ids) - found
    if missing:
        raise BadRequest(f"unknown {what} id(s): {', '.join(map(str, sorted(missing)))}")


async def _apply_flavour(
    session: AsyncSession, flavour: Flavour, change: FlavourChange, offered: Collection[str]
) -> None:
    if change.memory < 1:
        raise BadRequest("memory must be at least 1 MB")
    if change.cpu <= 0:
        raise BadRequest("cpu must be more than 0")
    lifetimes = dict(change.role_lifetimes)
    if len(lifetimes) != len(change.role_lifetimes):
        raise BadRequest("roleLifetimes: one lifetime per role")
    if any(minutes < 1 for minutes in lifetimes.values()):
        raise BadRequest("roleLifetimes: lifetimeMinutes must be at least 1")
    await _existing(session, Instrument.id, set(change.instrument_ids), "instrument")
    await _existing(session, Role.id, set(change.role_ids), "role")
    await _existing(session, Role.id, {r for r in lifetimes if r is not None}, "role")
    flavour.name = _text(change.name, "name", 250, required=True) or ""
    flavour.memory = change.memory
    flavour.cpu = change.cpu
    flavour.cloud_provider_configuration_id = await cloud_row_id(session, change.cloud_id)
    _in_cloud(change.compute_id, offered, "flavour")
    flavour.compute_id = change.compute_id


async def _replace_rules(session: AsyncSession, flavour: Flavour, change: FlavourChange) -> None:
    await session.execute(
        delete(FlavourLimit).where(
            FlavourLimit.flavour_id == flavour.id,
            FlavourLimit.object_type.in_(
                [FlavourLimitObjectType.INSTRUMENT, FlavourLimitObjectType.ROLE]
            ),
        )
    )
    for kind, ids in (
        (FlavourLimitObjectType.INSTRUMENT, change.instrument_ids),
        (FlavourLimitObjectType.ROLE, change.role_ids),
    ):
        for object_id in dict.fromkeys(ids):
            session.add(FlavourLimit(flavour_id=flavour.id, object_id=object_id, object_type=kind))
    await session.execute(
        delete(FlavourRoleLifetime).where(FlavourRoleLifetime.flavour_id == flavour.id)
    )
    for role_id, minutes in change.role_lifetimes:
        session.add(
            FlavourRoleLifetime(flavour_id=flavour.id, role_id=role_id, duration_minutes=minutes)
        )
    await session.flush()


async def create_flavour(
    session: AsyncSession, change: FlavourChange, offered: Collection[str]
) -> Flavour:
    flavour = Flavour(deleted=False)
    await _apply_flavour(session, flavour, change, offered)
    session.add(flavour)
    await session.flush()
    await _replace_rules(session, flavour, change)
    return await load_flavour(session, flavour.id)


async def update_flavour(
    session: AsyncSession, flavour_id: int, change: FlavourChange, offered: Collection[str]
) -> Flavour:
    flavour = await load_flavour(session, flavour_id)
    await _apply_flavour(session, flavour, change, offered)
    await _replace_rules(session, flavour, change)
    return await load_flavour(session, flavour.id)


async def delete_flavour(session: AsyncSession, flavour_id: int) -> Flavour:
    flavour = await load_flavour(session, flavour_id)
    flavour.deleted = True
    await session.flush()
    return flavour


# -- plans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanChange:
    """``PlanInput``."""

    image_id: int
    flavour_id: int
    preset: bool


async def load_plan(session: AsyncSession, plan_id: int) -> Plan:
    return await _live(
        session,
        Plan,
        plan_id,
        selectinload(Plan.image).options(*IMAGE_LOAD),
        selectinload(Plan.flavour).options(*FLAVOUR_LOAD),
    )


async def _apply_plan(session: AsyncSession, plan: Plan, change: PlanChange) -> None:
    image = await session.get(Image, change.image_id)
    if image is None or image.deleted:
        raise BadRequest(f"image {change.image_id} does not exist")
    flavour = await session.get(Flavour, change.flavour_id)
    if flavour is None or flavour.deleted:
        raise BadRequest(f"flavour {change.flavour_id} does not exist")
    plan.image_id = image.id
    plan.flavour_id = flavour.id
    plan.preset = change.preset


async def _single_preset(session: AsyncSession, plan: Plan) -> None:
    if plan.preset:
        await session.execute(
            update(Plan)
            .where(Plan.id != plan.id, Plan.preset.is_(True))
            .values(preset=False)
            .execution_options(synchronize_session=False)
        )


async def create_plan(session: AsyncSession, change: PlanChange) -> Plan:
    plan = Plan()
    await _apply_plan(session, plan, change)
    session.add(plan)
    await session.flush()
    await _single_preset(session, plan)
    return await load_plan(session, plan.id)


async def update_plan(session: AsyncSession, plan_id: int, change: PlanChange) -> Plan:
    plan = await load_plan(session, plan_id)
    await _apply_plan(session, plan, change)
    await session.flush()
    await _single_preset(session, plan)
    return await load_plan(session, plan.id)


async def delete_plan(session: AsyncSession, plan_id: int) -> Plan:
    plan = await load_plan(session, plan_id)
    plan.deleted_at = utcnow()
    await session.flush()
    return plan
