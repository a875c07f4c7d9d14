"""Clean-up jobs (spec/domain.md §7, §3.7): expired desktop tickets, old activity, orphan servers.

- :func:`delete_expired_tickets` (InstanceAuthenticationTokenDeleteJob, every 15 s): remote-desktop
  tickets are valid 15 s; those older than 30 s are deleted.
- :func:`delete_old_activity` (InstanceActivityCleanupJob, daily 01:00): with
  ``VISA_INSTANCE_ACTIVITY_RETENTION_PERIOD_DAYS`` > 0, activity rows older than that are deleted.
- :func:`delete_orphan_servers` (CloudInstanceCleanupJob, daily 02:00): for each cloud, the servers
  whose name starts with the cloud's server-name prefix and whose id is the ``compute_id`` of no
  non-deleted instance of that cloud are deleted in the cloud. A cloud that cannot be listed is
  skipped; the listing is taken before the instances are read, and a server named for an
  instance still being created (``<prefix>-<id>`` of a non-deleted instance without
  ``compute_id``) is kept, so a CREATE finishing meanwhile never loses its server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select

from visa_platform.compute import CloudClient, CloudError, CloudNotFoundError, server_name
from visa_platform.db.models import (
    Image,
    Instance,
    InstanceActivity,
    InstanceAuthenticationToken,
    Plan,
)
from visa_platform.services.instance_actions import EngineContext

log = logging.getLogger("visa_platform.cleanup")

#: Remote-desktop tickets older than this are deleted (they are valid 15 s).
TICKET_MAX_AGE = timedelta(seconds=30)


async def delete_expired_tickets(ctx: EngineContext) -> int:
    """Delete instance authentication tokens older than 30 s; returns how many."""
    cutoff = ctx.clock.now() - TICKET_MAX_AGE
    async with ctx.sessions() as session:
        result = await session.execute(
            delete(InstanceAuthenticationToken)
            .where(InstanceAuthenticationToken.created_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_old_activity(ctx: EngineContext) -> int:
    """Delete instance activity older than the retention period (0 days: keep everything)."""
    days = ctx.settings.instance_activity_retention_period_days
    if days <= 0:
        return 0
    cutoff = ctx.clock.now() - timedelta(days=days)
    async with ctx.sessions() as session:
        result = await session.execute(
            delete(InstanceActivity)
            .where(InstanceActivity.created_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        log.info("event=activity_cleanup deleted=%s older_than_days=%s", count, days)
    return count


@dataclass
class OrphanReport:
    """What one orphan clean-up did: deleted server ids and skipped clouds, by cloud id."""

    deleted: dict[int | None, list[str]] = field(default_factory=dict)
    skipped: dict[int | None, str] = field(default_factory=dict)


async def _known_servers(ctx: EngineContext, cloud_id: int | None) -> tuple[set[str], set[str]]:
    """Compute ids of the cloud's non-deleted instances, and the server names of those not
    created yet (no ``compute_id``)."""
    cloud = Image.cloud_provider_configuration_id
    async with ctx.sessions() as session:
        rows = await session.execute(
            select(Instance.id, Instance.compute_id)
            .join(Plan, Plan.id == Instance.plan_id)
            .join(Image, Image.id == Plan.image_id)
            .where(
                Instance.deleted_at.is_(None),
                cloud.is_(None) if cloud_id is None else cloud == cloud_id,
            )
        )
        pairs = rows.all()
    return {c for _, c in pairs if c is not None}, {str(i) for i, c in pairs if c is None}


async def _clean_cloud(ctx: EngineContext, client: CloudClient, report: OrphanReport) -> None:
    prefix = client.server_name_prefix
    if not prefix:
        report.skipped[client.id] = "no server name prefix"
        log.warning("cloud=%s event=orphan_cleanup outcome=skipped reason=no_prefix", client.id)
        return
    try:
        servers = await client.backend.list_instance_identifiers()
    except CloudError as exc:
        report.skipped[client.id] = exc.user_message
        log.warning("cloud=%s event=orphan_cleanup outcome=skipped error=%r", client.id, str(exc))
        return
    known, creating = await _known_servers(ctx, client.id)
    in_creation = {server_name(prefix, int(i)) for i in creating}
    deleted = report.deleted.setdefault(client.id, [])
    for server in servers:
        if not server.name.startswith(prefix) or server.id in known:
            continue
        if server.name in in_creation:
            continue
        try:
            await client.backend.delete_instance(server.id)
        except CloudNotFoundError:
            pass  # gone already
        except CloudError as exc:
            log.warning(
                "cloud=%s server=%s event=orphan_cleanup outcome=delete_failed error=%r",
                client.id,
                server.id,
                str(exc),
            )
            continue
        deleted.append(server.id)
        log.info(
            "cloud=%s server=%s name=%s event=orphan_cleanup outcome=deleted",
            client.id,
            server.id,
            server.name,
        )


async def delete_orphan_servers(ctx: EngineContext) -> OrphanReport:
    """CloudInstanceCleanupJob over every cloud client."""
    report = OrphanReport()
    for client in ctx.clouds:
        await _clean_cloud(ctx, client, report)
    return report


__all__ = [
    "TICKET_MAX_AGE",
    "OrphanReport",
    "delete_expired_tickets",
    "delete_old_activity",
    "delete_orphan_servers",
]
