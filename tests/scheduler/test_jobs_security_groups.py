"""Security-group reconciliation and cloud resources, on the fake OpenStack."""

from __future__ import annotations

from openstack_engine import OpenStackEngine, os_engine
from sqlalchemy import select

from visa_platform.db.models import CloudProviderConfiguration, CloudResources, Instance
from visa_platform.domain.enums import InstanceCommandType, InstanceState
from visa_platform.scheduler.jobs import build_scheduler
from visa_platform.services.cloud_resources import update_cloud_resources
from visa_platform.services.security_group_sync import changed_security_groups

__all__ = ["os_engine"]


async def test_changed_rules_update_the_servers_groups(os_engine: OpenStackEngine) -> None:
    ids = await os_engine.created(3)
    servers = {i: (await os_engine.instance(i)).compute_id or "" for i in ids}
    for instance_id in ids:
        assert (await os_engine.instance(instance_id)).security_groups == "default,visa-ssh"
        assert os_engine.server_groups(servers[instance_id]) == ["default", "visa-ssh"]

    os_engine.policy.groups = ["visa-ssh", "default"]  # same groups, other order
    assert await changed_security_groups(os_engine.ctx) == []

    # one instance is being deleted: left alone
    async with os_engine.sessions() as session:
        deleting = await session.get(Instance, ids[2])
        assert deleting is not None
        deleting.state = InstanceState.DELETING
        await session.commit()
    os_engine.policy.groups = ["default", "visa-rdp", "Beamline-42"]
    assert await changed_security_groups(os_engine.ctx, page_size=1) == ids[:2]

    scheduler, executor = build_scheduler(os_engine.ctx, executor=os_engine.executor)
    await scheduler.run_job("instance_security_groups")
    await executor.wait_idle()
    for instance_id in ids[:2]:
        instance = await os_engine.instance(instance_id)
        assert instance.security_groups == "default,visa-rdp,Beamline-42"
        assert sorted(os_engine.server_groups(servers[instance_id])) == [
            "Beamline-42",
            "default",
            "visa-rdp",
        ]
        # a system command: nothing persisted besides the user's CREATE
        assert [c[0] for c in await os_engine.commands(instance_id)] == ["CREATE"]
    assert os_engine.server_groups(servers[ids[2]]) == ["default", "visa-ssh"]
    assert await changed_security_groups(os_engine.ctx) == []


async def test_the_update_is_deduplicated_and_a_vanished_server_is_fine(
    os_engine: OpenStackEngine,
) -> None:
    [instance_id] = await os_engine.created(1)
    compute_id = (await os_engine.instance(instance_id)).compute_id or ""
    os_engine.policy.groups = ["default"]
    update = InstanceCommandType.UPDATE_SECURITY_GROUPS
    os_engine.cloud.faults.set_latency(0.05, match="/action")
    assert os_engine.executor.submit(instance_id, update)
    assert not os_engine.executor.submit(instance_id, update)  # already queued
    await os_engine.executor.wait_idle()
    os_engine.cloud.faults.clear()
    assert os_engine.server_groups(compute_id) == ["default"]
    removals = [r for r in os_engine.cloud.requests if r.path.endswith("/action")]
    assert len(removals) == 1  # visa-ssh removed once, nothing to add

    del os_engine.cloud.servers[compute_id]
    os_engine.policy.groups = ["default", "visa-rdp"]
    assert os_engine.executor.submit(instance_id, update)
    await os_engine.executor.wait_idle()
    assert (await os_engine.instance(instance_id)).security_groups == "default,visa-rdp"


async def test_cloud_resources_follow_the_limits(os_engine: OpenStackEngine) -> None:
    await os_engine.created(2)
    async with os_engine.sessions() as session:
        gone = CloudProviderConfiguration(
            type="openstack", name="old", server_name_prefix="OLD", visible=True
        )
        session.add(gone)
        await session.flush()
        session.add(
            CloudResources(
                cloud_provider_configuration_id=gone.id,
                vcpu_total=1,
                vcpu_usage=1,
                memory_mb_total=1,
                memory_mb_usage=1,
                instances_total=1,
                instances_usage=1,
            )
        )
        await session.commit()

    async def rows() -> list[tuple[int | None, int, int, int, int, int, int]]:
        async with os_engine.sessions() as session:
            return [
                (
                    r.cloud_provider_configuration_id,
                    r.vcpu_total,
                    r.vcpu_usage,
                    r.memory_mb_total,
                    r.memory_mb_usage,
                    r.instances_total,
                    r.instances_usage,
                )
                for r in await session.scalars(select(CloudResources))
            ]

    assert await update_cloud_resources(os_engine.ctx) == 1
    limits = os_engine.cloud.limits
    expected = (
        None,
        limits["maxTotalCores"],
        2,
        limits["maxTotalRAMSize"],
        2 * 2048,
        limits["maxTotalInstances"],
        2,
    )
    assert await rows() == [expected]

    os_engine.cloud.faults.fail_next(503, count=5, match="/limits")
    assert await update_cloud_resources(os_engine.ctx) == 0
    assert await rows() == [expected]  # the last answer is kept
    os_engine.cloud.faults.clear()
    os_engine.cloud.servers.clear()
    assert await update_cloud_resources(os_engine.ctx) == 1
    assert await rows() == [(None, limits["maxTotalCores"], 0, limits["maxTotalRAMSize"], 0, 50, 0)]
