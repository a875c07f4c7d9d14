"""Security groups and their filters as administrators see them (spec/domain.md §5)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.models import (
    Flavour,
    Instrument,
    Role,
    SecurityGroup,
    SecurityGroupFilter,
)
from visa_platform.domain.enums import SecurityGroupFilterObjectType
from visa_platform.domain.errors import BadRequest, NotFound


async def security_groups(session: AsyncSession, name: str | None = None) -> list[SecurityGroup]:
    query = select(SecurityGroup).order_by(SecurityGroup.name, SecurityGroup.id)
    if name is not None:
        query = query.where(SecurityGroup.name == name)
    return list(await session.scalars(query))


async def filters(session: AsyncSession) -> list[SecurityGroupFilter]:
    return list(
        await session.scalars(
            select(SecurityGroupFilter)
            .options(selectinload(SecurityGroupFilter.security_group))
            .order_by(SecurityGroupFilter.id)
        )
    )


async def find_filter(
    session: AsyncSession, security_group_id: int, object_id: int, object_type: str
) -> SecurityGroupFilter | None:
    try:
        kind = SecurityGroupFilterObjectType(object_type)
    except ValueError:
        return None
    return await session.scalar(
        select(SecurityGroupFilter)
        .options(selectinload(SecurityGroupFilter.security_group))
        .where(
            SecurityGroupFilter.security_group_id == security_group_id,
            SecurityGroupFilter.object_id == object_id,
            SecurityGroupFilter.object_type == kind,
        )
    )


NAME_COLUMNS = {
    SecurityGroupFilterObjectType.INSTRUMENT: (Instrument.id, Instrument.name),
    SecurityGroupFilterObjectType.ROLE: (Role.id, Role.name),
    SecurityGroupFilterObjectType.FLAVOUR: (Flavour.id, Flavour.name),
}


async def object_names(
    session: AsyncSession, keys: list[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """The instrument's, role's or flavour's name of each (objectType, objectId)."""
    wanted: dict[SecurityGroupFilterObjectType, set[int]] = defaultdict(set)
    for kind, object_id in keys:
        try:
            wanted[SecurityGroupFilterObjectType(kind)].add(object_id)
        except ValueError:
            continue
    found: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        id_column, name_column = NAME_COLUMNS[kind]
        rows = await session.execute(select(id_column, name_column).where(id_column.in_(ids)))
        found.update({(kind.value, int(i)): name for i, name in rows})
    return found


# -- changes -----------------------------------------------------------------------------------


async def _group(session: AsyncSession, group_id: int) -> SecurityGroup:
    group = await session.get(SecurityGroup, group_id)
    if group is None:
        raise NotFound(f"Security group with id {group_id} not found")
    return group


async def create_security_group(
    session: AsyncSession, name: str, cloud_row: int | None, offered: Collection[str]
) -> SecurityGroup:
    """A group the cloud has; an existing (name, cloud) pair is returned as it is."""
    name = name.strip()
    if not name or len(name) > 250:
        raise BadRequest("a security group name needs 1 to 250 characters")
    existing = await session.scalar(
        select(SecurityGroup).where(
            SecurityGroup.name == name,
            SecurityGroup.cloud_provider_configuration_id.is_(None)
            if cloud_row is None
            else SecurityGroup.cloud_provider_configuration_id == cloud_row,
        )
    )
    if existing is not None:
        return existing
    if name not in offered:
        raise BadRequest(f"the cloud has no security group {name!r}")
    group = SecurityGroup(name=name, cloud_provider_configuration_id=cloud_row)
    session.add(group)
    await session.flush()
    return group


async def update_security_group(
    session: AsyncSession,
    group_id: int,
    name: str,
    cloud_row: int | None,
    offered: Collection[str],
) -> SecurityGroup:
    group = await _group(session, group_id)
    name = name.strip()
    if not name or len(name) > 250:
        raise BadRequest("a security group name needs 1 to 250 characters")
    if name not in offered:
        raise BadRequest(f"the cloud has no security group {name!r}")
    group.name = name
    group.cloud_provider_configuration_id = cloud_row
    await session.flush()
    return group


async def delete_security_group(session: AsyncSession, group_id: int) -> SecurityGroup:
    """The group and its filters."""
    group = await session.scalar(
        select(SecurityGroup)
        .options(selectinload(SecurityGroup.filters))
        .where(SecurityGroup.id == group_id)
    )
    if group is None:
        raise NotFound(f"Security group with id {group_id} not found")
    await session.delete(group)
    await session.flush()
    return group


@dataclass(frozen=True)
class FilterChange:
    """``SecurityGroupFilterInput``."""

    security_group_id: int
    object_id: int
    object_type: str


async def _checked(session: AsyncSession, change: FilterChange) -> SecurityGroupFilterObjectType:
    try:
        kind = SecurityGroupFilterObjectType(change.object_type)
    except ValueError:
        raise BadRequest("objectType must be INSTRUMENT, ROLE or FLAVOUR") from None
    await _group(session, change.security_group_id)
    id_column, _ = NAME_COLUMNS[kind]
    if await session.scalar(select(id_column).where(id_column == change.object_id)) is None:
        raise BadRequest(f"{kind.value.lower()} {change.object_id} does not exist")
    return kind


async def _load_filter(session: AsyncSession, filter_id: int) -> SecurityGroupFilter:
    found = await session.scalar(
        select(SecurityGroupFilter)
        .options(selectinload(SecurityGroupFilter.security_group))
        .where(SecurityGroupFilter.id == filter_id)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"Security group filter with id {filter_id} not found")
    return found


async def create_filter(session: AsyncSession, change: FilterChange) -> SecurityGroupFilter:
    kind = await _checked(session, change)
    if await find_filter(session, change.security_group_id, change.object_id, kind.value):
        raise BadRequest("this security group filter already exists")
    row = SecurityGroupFilter(
        security_group_id=change.security_group_id, object_id=change.object_id, object_type=kind
    )
    session.add(row)
    await session.flush()
    return await _load_filter(session, row.id)


async def update_filter(
    session: AsyncSession, filter_id: int, change: FilterChange
) -> SecurityGroupFilter:
    row = await _load_filter(session, filter_id)
    kind = await _checked(session, change)
    duplicate = await find_filter(session, change.security_group_id, change.object_id, kind.value)
    if duplicate is not None and duplicate.id != row.id:
        raise BadRequest("this security group filter already exists")
    row.security_group_id = change.security_group_id
    row.object_id = change.object_id
    row.object_type = kind
    await session.flush()
    return await _load_filter(session, row.id)


async def delete_filter(session: AsyncSession, filter_id: int) -> SecurityGroupFilter:
    row = await _load_filter(session, filter_id)
    await session.delete(row)
    await session.flush()
    return row
