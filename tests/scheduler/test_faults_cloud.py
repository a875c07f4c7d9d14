"""Cloud faults during create, start, delete and state sync, on the fake OpenStack through the
real openstacksdk: timeouts, 5xx, refused connections and expired tokens.

Commands are retried with back-off (simulated time) and end TERMINATED, or FAILED with a reason
users may read; instance rows stay consistent; a state-sync pass that cannot see the cloud
changes nothing.
"""

from __future__ import annotations

import asyncio
import socket

from openstack_engine import PREFIX, OpenStackEngine, openstack_clouds, os_engine

import visa_openstack.plugin
from visa_platform.compute import CloudUnavailableError
from visa_platform.domain.enums import InstanceCommandType, InstanceState
from visa_platform.plugin import PluginHost
from visa_platform.services.instance_states import sync_states
from visa_platform.testing.fake_openstack import FakeOpenStack
from visa_platform.testing.fakehttp import FakeRequest, FakeResponse

__all__ = ["os_engine"]

UNAVAILABLE = "Action failed: " + CloudUnavailableError("x").user_message
SERVERS = "/compute/v2.1/servers"


def creates(cloud: FakeOpenStack) -> int:
    return sum(1 for r in cloud.requests if r.method == "POST" and r.path == SERVERS)


async def test_create_is_retried_through_5xx_and_an_expired_token(
    os_engine: OpenStackEngine,
) -> None:
    cloud = os_engine.cloud
    [instance_id] = await os_engine.add_instances(1)
    await os_engine.ctx.clouds.default.backend.limits()  # type: ignore[union-attr]
    auths = cloud.auth_count
    cloud.expire_tokens()
    cloud.faults.fail_next(503, count=2, match=SERVERS)
    before = os_engine.clock.now()
    await os_engine.execute()
    assert await os_engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
    assert cloud.auth_count > auths  # the client authenticated again by itself
    [server] = cloud.servers.values()  # one server, however many tries
    assert server["name"] == f"{PREFIX}-{instance_id}"
    assert await os_engine.compute_id(instance_id) == server["id"]
    assert (os_engine.clock.now() - before).total_seconds() == 3  # backed off 1 s, then 2 s


async def test_a_create_that_timed_out_after_the_cloud_made_the_server_adopts_it(
    os_engine: OpenStackEngine,
) -> None:
    """The answer to POST /servers comes after the client's 1 s read timeout: the server
    exists anyway. The retry finds it by name instead of making a second one."""
    cloud = os_engine.cloud
    handle = cloud.handle
    slow = [True]

    async def slow_create(request: FakeRequest) -> FakeResponse:
        response = await handle(request)
        if request.method == "POST" and request.path == SERVERS and slow:
            slow.pop()
            await asyncio.sleep(1.5)
        return response

    cloud.handle = slow_create  # type: ignore[method-assign]
    [instance_id] = await os_engine.add_instances(1)
    await os_engine.execute()
    assert await os_engine.commands(instance_id) == [("CREATE", "TERMINATED", None)]
    assert creates(cloud) == 1 and len(cloud.servers) == 1
    assert await os_engine.compute_id(instance_id) == next(iter(cloud.servers))


async def test_start_shutdown_and_delete_are_retried_through_timeouts_5xx_and_expiry(
    os_engine: OpenStackEngine,
) -> None:
    cloud = os_engine.cloud
    [instance_id] = await os_engine.add_instances(
        1, state=InstanceState.STARTING, command=InstanceCommandType.START, server_status="SHUTOFF"
    )
    compute_id = await os_engine.compute_id(instance_id)
    cloud.faults.hang_next(1, match=f"/servers/{compute_id}/action")  # read timeout (1 s)
    cloud.faults.fail_next(500, count=1, match=f"/servers/{compute_id}")
    await os_engine.execute()
    assert await os_engine.commands(instance_id) == [("START", "TERMINATED", None)]
    actions = [r for r in cloud.requests if r.path.endswith(f"{compute_id}/action")]
    assert len(actions) >= 2

    cloud.transition_seconds = 0
    cloud.servers[compute_id]["status"] = "ACTIVE"
    cloud.servers[compute_id]["OS-EXT-STS:task_state"] = None
    await os_engine.add_command(instance_id, InstanceCommandType.DELETE)
    cloud.expire_tokens()
    cloud.faults.fail_next(503, count=2, match=f"/servers/{compute_id}")
    await os_engine.execute()
    assert [c[:2] for c in await os_engine.commands(instance_id)][-1] == ("DELETE", "TERMINATED")
    instance = await os_engine.instance(instance_id)
    assert instance.state is InstanceState.DELETED and instance.deleted_at is not None
    assert compute_id not in cloud.servers


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


async def test_refused_connections_fail_commands_with_a_reason_and_rows_stay_consistent(
    os_engine: OpenStackEngine,
) -> None:
    cloud = os_engine.cloud
    good = os_engine.ctx.clouds
    host = PluginHost()
    host.register(visa_openstack.plugin, "openstack")
    port = closed_port()
    parameters = {
        k: v.replace(f":{cloud.port}/", f":{port}/") for k, v in cloud.parameters().items()
    }
    assert parameters["identityEndpoint"].endswith(f":{port}/identity")
    refused = openstack_clouds(parameters, host)
    [new] = await os_engine.add_instances(1)
    [stopped] = await os_engine.add_instances(
        1, state=InstanceState.STARTING, command=InstanceCommandType.START, server_status="SHUTOFF"
    )
    [doomed] = await os_engine.add_instances(
        1,
        state=InstanceState.DELETING,
        command=InstanceCommandType.DELETE,
        server_status="SHUTOFF",
    )
    os_engine.ctx.clouds = refused
    try:
        await os_engine.execute()
    finally:
        os_engine.ctx.clouds = good
        await refused.close()
    assert await os_engine.commands(new) == [("CREATE", "FAILED", UNAVAILABLE)]
    assert await os_engine.commands(stopped) == [("START", "FAILED", UNAVAILABLE)]
    assert await os_engine.commands(doomed) == [("DELETE", "FAILED", UNAVAILABLE)]
    created = await os_engine.instance(new)
    assert created.state is InstanceState.ERROR and created.compute_id is None
    assert (await os_engine.instance(stopped)).state is InstanceState.STARTING
    kept = await os_engine.instance(doomed)
    assert kept.deleted_at is None and kept.compute_id in cloud.servers  # nothing half-done

    # the cloud is back: asking again works
    await os_engine.add_command(doomed, InstanceCommandType.DELETE)
    await os_engine.execute()
    assert (await os_engine.instance(doomed)).state is InstanceState.DELETED


async def test_state_sync_changes_nothing_when_the_cloud_cannot_be_seen(
    os_engine: OpenStackEngine,
) -> None:
    cloud = os_engine.cloud
    ids = await os_engine.add_instances(
        3, state=InstanceState.ACTIVE, command=None, server_status="SHUTOFF"
    )
    before = [(i.state, i.deleted_at) for i in [await os_engine.instance(n) for n in ids]]

    cloud.faults.fail_next(503, count=10, match=f"{SERVERS}/detail")
    report = await sync_states(os_engine.ctx)
    assert report.cloud_errors == 1 and report.changed == 0
    cloud.faults.clear()
    cloud.faults.hang_next(1, match=f"{SERVERS}/detail")  # times out after 1 s
    report = await sync_states(os_engine.ctx)
    assert report.cloud_errors == 1 and report.changed == 0
    assert [(i.state, i.deleted_at) for i in [await os_engine.instance(n) for n in ids]] == before

    # one server vanished from the listing, and asking for it fails: not deleted yet
    vanished = await os_engine.compute_id(ids[0])
    server = cloud.servers.pop(vanished)
    cloud.faults.fail_next(503, count=1, match=f"{SERVERS}/{vanished}")
    cloud.expire_tokens()
    report = await sync_states(os_engine.ctx)
    states = [(await os_engine.instance(n)).state for n in ids]
    assert states == [InstanceState.ACTIVE, InstanceState.STOPPED, InstanceState.STOPPED]
    cloud.servers[vanished] = server
    assert report.cloud_errors == 0

    # gone for good: DELETED on the next pass
    del cloud.servers[vanished]
    await sync_states(os_engine.ctx)
    instance = await os_engine.instance(ids[0])
    assert instance.state is InstanceState.DELETED and instance.deleted_at is not None
