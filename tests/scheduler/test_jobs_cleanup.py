"""Clean-up jobs on the fake OpenStack: desktop tickets, old activity, orphan servers."""

from __future__ import annotations

from datetime import timedelta

from openstack_engine import PREFIX, OpenStackEngine, os_engine
from sqlalchemy import func, select

from visa_platform.db.models import (
    CloudResources,
    Instance,
    InstanceActivity,
    InstanceAuthenticationToken,
)
from visa_platform.domain.enums import InstanceActivityType
from visa_platform.scheduler.jobs import build_scheduler
from visa_platform.services.cleanup import (
    delete_expired_tickets,
    delete_old_activity,
    delete_orphan_servers,
)

__all__ = ["os_engine"]


async def count(engine: OpenStackEngine, model: type) -> int:
    async with engine.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_tickets_older_than_30_seconds_are_deleted(os_engine: OpenStackEngine) -> None:
    [instance_id] = await os_engine.add_instances(1, command=None)
    now = os_engine.clock.now()
    async with os_engine.sessions() as session:
        for age in (0, 14, 29, 31, 600):
            session.add(
                InstanceAuthenticationToken(
                    token=f"t{age}",
                    instance_id=instance_id,
                    user_id="1001",
                    created_at=now - timedelta(seconds=age),
                )
            )
        await session.commit()
    assert await delete_expired_tickets(os_engine.ctx) == 2
    async with os_engine.sessions() as session:
        left = set(await session.scalars(select(InstanceAuthenticationToken.token)))
    assert left == {"t0", "t14", "t29"}
    os_engine.clock.advance(30)  # t0 is now exactly 30 s old: kept
    assert await delete_expired_tickets(os_engine.ctx) == 2
    os_engine.clock.advance(1)
    assert await delete_expired_tickets(os_engine.ctx) == 1
    assert await count(os_engine, InstanceAuthenticationToken) == 0


async def test_activity_is_kept_forever_by_default_then_for_the_retention_period(
    os_engine: OpenStackEngine,
) -> None:
    [instance_id] = await os_engine.add_instances(1, command=None)
    now = os_engine.clock.now()
    async with os_engine.sessions() as session:
        for days in (0, 6, 8, 400):
            session.add(
                InstanceActivity(
                    user_id="1001",
                    instance_id=instance_id,
                    activity_type=InstanceActivityType.MOUSE,
                    created_at=now - timedelta(days=days, hours=1),
                )
            )
        await session.commit()
    assert os_engine.ctx.settings.instance_activity_retention_period_days == 0
    assert await delete_old_activity(os_engine.ctx) == 0
    assert await count(os_engine, InstanceActivity) == 4
    os_engine.ctx.settings = os_engine.ctx.settings.model_copy(
        update={"instance_activity_retention_period_days": 7}
    )
    assert await delete_old_activity(os_engine.ctx) == 2
    assert await count(os_engine, InstanceActivity) == 2


async def test_orphan_servers_with_the_prefix_are_deleted_and_only_those(
    os_engine: OpenStackEngine,
) -> None:
    cloud = os_engine.cloud
    kept = await os_engine.created(2)
    compute_ids = {(await os_engine.instance(i)).compute_id for i in kept}
    [deleted_instance] = await os_engine.created(1)
    async with os_engine.sessions() as session:  # soft-deleted, its server left behind
        instance = await session.get(Instance, deleted_instance)
        assert instance is not None
        orphan_of_deleted = instance.compute_id
        instance.deleted_at = os_engine.clock.now()
        await session.commit()
    # a server named for an instance whose CREATE has not stored its compute id yet
    [creating] = await os_engine.add_instances(1, command=None)
    in_flight = cloud.add_servers(1)[0]
    cloud.servers[in_flight]["name"] = f"{PREFIX}-{creating}"
    foreign = cloud.add_servers(2)  # names "bulk-0", "bulk-1": not ours
    stray = cloud.add_servers(1)[0]
    cloud.servers[stray]["name"] = f"{PREFIX}-99999"

    report = await delete_orphan_servers(os_engine.ctx)

    assert sorted(report.deleted[None]) == sorted([orphan_of_deleted, stray])
    assert set(cloud.servers) == compute_ids | {in_flight, *foreign}
    assert report.skipped == {}


async def test_a_cloud_that_cannot_be_listed_is_skipped(os_engine: OpenStackEngine) -> None:
    cloud = os_engine.cloud
    stray = cloud.add_servers(1)[0]
    cloud.servers[stray]["name"] = f"{PREFIX}-424242"
    cloud.faults.fail_next(503, count=5, match="/servers")
    report = await delete_orphan_servers(os_engine.ctx)
    assert report.deleted == {} and None in report.skipped
    assert stray in cloud.servers
    assert not any(r.method == "DELETE" for r in cloud.requests)
    cloud.faults.clear()
    report = await delete_orphan_servers(os_engine.ctx)
    assert report.deleted == {None: [stray]} and cloud.servers == {}


async def test_the_scheduler_runs_the_clean_up_jobs(os_engine: OpenStackEngine) -> None:
    [instance_id] = await os_engine.add_instances(1, command=None)
    stray = os_engine.cloud.add_servers(1)[0]
    os_engine.cloud.servers[stray]["name"] = f"{PREFIX}-777"
    long_ago = os_engine.clock.now() - timedelta(days=30)
    async with os_engine.sessions() as session:
        session.add(
            InstanceAuthenticationToken(
                token="old", instance_id=instance_id, user_id="1001", created_at=long_ago
            )
        )
        session.add(
            InstanceActivity(
                user_id="1001",
                instance_id=instance_id,
                activity_type=InstanceActivityType.KEYBOARD,
                created_at=long_ago,
            )
        )
        await session.commit()
    os_engine.ctx.settings = os_engine.ctx.settings.model_copy(
        update={"instance_activity_retention_period_days": 10}
    )
    scheduler, _ = build_scheduler(os_engine.ctx, executor=os_engine.executor)
    for job in (
        "instance_authentication_tokens",
        "instance_activity_cleanup",
        "cloud_instance_cleanup",
        "cloud_resources",
    ):
        await scheduler.run_job(job)
    assert await count(os_engine, InstanceAuthenticationToken) == 0
    assert await count(os_engine, InstanceActivity) == 0
    assert stray not in os_engine.cloud.servers
    assert await count(os_engine, CloudResources) == 1
