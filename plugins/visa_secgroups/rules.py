"""The security groups an instance gets from the ``security_group(_filter)`` rows.

Spec/domain.md §5: an ADMIN owner gets every group of the instance's cloud; anyone else gets, in
this order and de-duplicated, the default groups (no filter at all), the groups filtered on one of
the owner's roles or groups (not deleted), and the groups filtered on the plan's flavour (not
deleted). Only groups of the instance's cloud count: a group without cloud belongs to the default
cloud (``None`` or -1); groups of a deleted cloud never match. INSTRUMENT filters are ignored, as
VISA does (the external security-group service may use them).
"""

from __future__ import annotations

from sqlalchemy import Select, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models.cloud import (
    CloudProviderConfiguration,
    Flavour,
    SecurityGroup,
    SecurityGroupFilter,
)
from visa_platform.db.models.users import Role
from visa_platform.domain.enums import SecurityGroupFilterObjectType as ObjectType
from visa_platform.plugin.types import SecurityGroupQuery

ADMIN_ROLE = "ADMIN"
DEFAULT_CLOUD_ID = -1


def _same_cloud(cloud_id: int | None) -> Select[int, str]:
    """Groups of ``cloud_id`` (``None``/-1 = default cloud), never of a deleted cloud."""
    stmt = select(SecurityGroup.id, SecurityGroup.name)
    if cloud_id is None or cloud_id == DEFAULT_CLOUD_ID:
        return stmt.where(SecurityGroup.cloud_provider_configuration_id.is_(None))
    live_cloud = exists().where(
        CloudProviderConfiguration.id == cloud_id,
        CloudProviderConfiguration.deleted_at.is_(None),
    )
    return stmt.where(SecurityGroup.cloud_provider_configuration_id == cloud_id, live_cloud)


async def _names(session: AsyncSession, stmt: Select[int, str]) -> list[str]:
    rows = (await session.execute(stmt.order_by(SecurityGroup.id))).all()
    return [str(row.name) for row in rows]


async def security_groups(session: AsyncSession, query: SecurityGroupQuery) -> list[str]:
    """The ordered, de-duplicated group names for ``query`` from the database filters."""
    base = _same_cloud(query.cloud_id)
    if ADMIN_ROLE in query.owner_roles:
        return list(dict.fromkeys(await _names(session, base)))

    has_filter = exists().where(SecurityGroupFilter.security_group_id == SecurityGroup.id)
    defaults = await _names(session, base.where(~has_filter))

    roles: list[str] = []
    if query.owner_roles:
        role_ids = select(Role.id).where(
            Role.name.in_(sorted(query.owner_roles)), Role.group_deleted_at.is_(None)
        )
        roles = await _names(
            session,
            base.where(
                exists().where(
                    SecurityGroupFilter.security_group_id == SecurityGroup.id,
                    SecurityGroupFilter.object_type == ObjectType.ROLE,
                    SecurityGroupFilter.object_id.in_(role_ids),
                )
            ),
        )

    flavours: list[str] = []
    if query.flavour_id is not None:
        live_flavour = select(Flavour.id).where(
            Flavour.id == query.flavour_id, Flavour.deleted == false()
        )
        flavours = await _names(
            session,
            base.where(
                exists().where(
                    SecurityGroupFilter.security_group_id == SecurityGroup.id,
                    SecurityGroupFilter.object_type == ObjectType.FLAVOUR,
                    SecurityGroupFilter.object_id.in_(live_flavour),
                )
            ),
        )
    return list(dict.fromkeys(defaults + roles + flavours))
