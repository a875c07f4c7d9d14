"""CloudResourceUpdateJob (spec/domain.md §7): each cloud's quota and usage in ``cloud_resources``.

Every minute (at :15) each cloud client whose backend has the ``LIMITS`` capability is asked for
its limits; the cloud's row (one per cloud, ``cloud_provider_configuration_id`` ``NULL`` for the
default cloud) is inserted or updated. A cloud that fails to answer keeps its last row; rows of
clouds that no longer have a client are deleted.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from visa_platform.compute import Capability, CloudError, CloudLimit
from visa_platform.db.models import CloudResources
from visa_platform.services.instance_actions import EngineContext

log = logging.getLogger("visa_platform.cloud_resources")


async def update_cloud_resources(ctx: EngineContext) -> int:
    """Refresh the rows; returns how many clouds answered."""
    limits: dict[int | None, CloudLimit] = {}
    for client in ctx.clouds:
        if not client.backend.supports(Capability.LIMITS):
            continue
        try:
            limit = await client.backend.limits()
        except CloudError as exc:
            log.warning(
                "cloud=%s event=cloud_resources outcome=failed error=%r", client.id, str(exc)
            )
            continue
        if limit is not None:
            limits[client.id] = limit
    clients = {client.id for client in ctx.clouds}
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        rows = {
            r.cloud_provider_configuration_id: r
            for r in await session.scalars(select(CloudResources))
        }
        for cloud_id, limit in limits.items():
            row = rows.get(cloud_id)
            if row is None:
                row = CloudResources(cloud_provider_configuration_id=cloud_id, created_at=now)
                session.add(row)
            row.vcpu_total = limit.max_total_cores
            row.vcpu_usage = limit.total_cores_used
            row.memory_mb_total = limit.max_total_ram_size
            row.memory_mb_usage = limit.total_ram_used
            row.instances_total = limit.max_total_instances
            row.instances_usage = limit.total_instances_used
            row.updated_at = now
        gone = [r.id for cloud_id, r in rows.items() if cloud_id not in clients]
        if gone:
            await session.execute(
                delete(CloudResources)
                .where(CloudResources.id.in_(gone))
                .execution_options(synchronize_session=False)
            )
        await session.commit()
    return len(limits)


__all__ = ["update_cloud_resources"]
