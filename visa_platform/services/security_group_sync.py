"""InstanceSecurityGroupUpdateJob (spec/domain.md §5, §7): firewalls follow the rules.

Daily at 06:00 every instance that has a server (not deleted, not being deleted) gets its
security groups recomputed as CREATE computes them (the ``visa_instance_security_groups`` hook).
When the sorted list differs from the stored ``instance.security_groups`` an
UPDATE_SECURITY_GROUPS system command is queued; the action recomputes, stores and makes the
server's groups match. Instances are read 500 at a time with their owners' roles in one query
per page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from visa_platform.db.models import Instance
from visa_platform.domain.enums import InstanceState
from visa_platform.events.instances import owner_of
from visa_platform.services.instance_actions import (
    LOAD_FOR_ENGINE,
    EngineContext,
    owner_roles,
    security_groups_for,
)

log = logging.getLogger("visa_platform.security_groups")

PAGE_SIZE = 500

#: Instances in these states are left alone (their server is going away).
SKIPPED_STATES = (InstanceState.DELETING, InstanceState.DELETED)


def stored_groups(value: str | None) -> list[str]:
    return [name for name in (value or "").split(",") if name]


async def changed_security_groups(ctx: EngineContext, *, page_size: int = PAGE_SIZE) -> list[int]:
    """Ids of the instances whose groups differ from what the rules give now."""
    changed: list[int] = []
    after = 0
    while True:
        async with ctx.sessions() as session:
            page = list(
                (
                    await session.scalars(
                        select(Instance)
                        .where(
                            Instance.id > after,
                            Instance.deleted_at.is_(None),
                            Instance.compute_id.is_not(None),
                            Instance.state.not_in(SKIPPED_STATES),
                        )
                        .options(*LOAD_FOR_ENGINE, selectinload(Instance.experiments))
                        .order_by(Instance.id)
                        .limit(page_size)
                    )
                ).all()
            )
            if not page:
                return changed
            roles = await owner_roles(session, [o for i in page if (o := owner_of(i))])
            for instance in page:
                owner = owner_of(instance)
                groups = await security_groups_for(
                    ctx, session, instance, roles.get(owner or "", set())
                )
                if sorted(groups) != sorted(stored_groups(instance.security_groups)):
                    changed.append(instance.id)
            after = page[-1].id
        if len(page) < page_size:
            return changed


async def reconcile_security_groups(
    ctx: EngineContext, submit: Callable[[int], object], *, page_size: int = PAGE_SIZE
) -> list[int]:
    """Queue an UPDATE_SECURITY_GROUPS (``submit(instance_id)``) for each changed instance."""
    changed = await changed_security_groups(ctx, page_size=page_size)
    for instance_id in changed:
        submit(instance_id)
    if changed:
        log.info("event=security_group_reconciliation changed=%s", len(changed))
    return changed


__all__ = ["changed_security_groups", "reconcile_security_groups", "stored_groups"]
