"""The compute-backend contract suite: the behaviour every backend must have.

A plugin author subclasses :class:`ComputeBackendContract` in a test module and provides the
``contract_target`` fixture (parametrise it to run the suite against several configurations)::

    from visa_platform.testing.compute_contract import ComputeBackendContract, ContractTarget

    class TestMyCloud(ComputeBackendContract):
        @pytest.fixture
        async def contract_target(self):
            async with MyFakeCloud() as cloud:
                backend = MyBackend(BackendConfig(..., read_timeout=1.0))
                yield ContractTarget(backend=backend, image_id=..., flavour_id=...,
                                     security_groups=("a", "b"), faults=MyFaults(cloud))
                await backend.close()

The suite creates, polls to ACTIVE, shuts down, starts, reboots and deletes servers, checks
not-found handling, error mapping (5xx, refused request, malformed answer, server in ERROR),
timeouts (a hung request must fail within ``ContractTarget.call_bound`` seconds) and concurrent
calls. Tests of capabilities the backend lacks check that they raise ``CloudNotSupportedError``.
Servers the suite creates are deleted at the end of each test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from visa_platform.compute import (
    Capability,
    CloudError,
    CloudInstance,
    CloudNotFoundError,
    CloudNotSupportedError,
    CloudUnavailableError,
    ComputeBackend,
    InstanceRequest,
)
from visa_platform.domain.enums import CloudInstanceState as S


class ContractFaults(Protocol):
    """Fault switches of the cloud behind the backend under test (usually a fake)."""

    def fail_next(self, status: int, count: int = 1) -> None:
        """The next ``count`` server requests get HTTP ``status``."""

    def hang_next(self, count: int = 1) -> None:
        """The next ``count`` server requests are never answered."""

    def malformed_next(self, count: int = 1) -> None:
        """The next ``count`` server requests get a 200 whose body is not what the API says."""

    def servers_go_to_error(self, enabled: bool) -> None:
        """Servers created from now on end in the cloud's ERROR state."""

    def clear(self) -> None:
        """Remove every pending fault."""


@dataclass
class ContractTarget:
    """A backend under test and what the suite needs to know about its cloud."""

    backend: ComputeBackend
    image_id: str
    flavour_id: str
    #: At least two security groups that exist in the cloud (if the backend supports them).
    security_groups: tuple[str, ...]
    faults: ContractFaults
    #: A backend of the same type pointed at an address where nothing listens.
    unreachable: ComputeBackend | None = None
    #: Seconds a call may take when the cloud hangs (the backend's timeouts plus a margin).
    call_bound: float = 10.0
    #: Seconds a server may take to reach a state.
    poll_timeout: float = 15.0
    #: Whether the backend talks to a remote API. A backend that runs servers itself (``local``)
    #: has no requests to fail, hang or garble: the transport-fault tests are skipped for it,
    #: and its ``faults`` only need ``servers_go_to_error`` and ``clear``.
    remote: bool = True
    created: list[str] = field(default_factory=list)


async def poll_state(
    backend: ComputeBackend,
    instance_id: str,
    wanted: Collection[S],
    within: float,
    interval: float = 0.05,
) -> CloudInstance:
    """Poll ``get_instance`` until the server is in one of ``wanted``; fail after ``within`` s."""
    deadline = time.monotonic() + within
    last: CloudInstance | None = None
    while time.monotonic() < deadline:
        last = await backend.get_instance(instance_id)
        assert last is not None, f"server {instance_id} disappeared"
        if last.state in wanted:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"server {instance_id} not in {sorted(wanted)} after {within}s: {last}")


async def poll_gone(backend: ComputeBackend, instance_id: str, within: float) -> None:
    """Poll until ``get_instance`` returns ``None`` (or the state DELETED)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        instance = await backend.get_instance(instance_id)
        if instance is None or instance.state is S.DELETED:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"server {instance_id} still exists after {within}s")


class ComputeBackendContract:
    """Subclass it (named ``Test...``) and provide an async ``contract_target`` fixture."""

    @pytest.fixture
    async def target(self, contract_target: ContractTarget) -> AsyncIterator[ContractTarget]:
        """The subclass's target; deletes the servers a test created, whatever happened."""
        yield contract_target
        contract_target.faults.clear()
        contract_target.faults.servers_go_to_error(False)
        for instance_id in contract_target.created:
            with contextlib.suppress(CloudError):
                await contract_target.backend.delete_instance(instance_id)

    @staticmethod
    async def create(target: ContractTarget, **overrides: Any) -> CloudInstance:
        fields: dict[str, Any] = {
            "name": f"contract-{uuid.uuid4().hex[:8]}",
            "image_id": target.image_id,
            "flavour_id": target.flavour_id,
            "metadata": {"id": "42", "owner": "contract"},
            "boot_command": "#!/bin/sh\necho contract\n",
        }
        if target.backend.supports(Capability.SECURITY_GROUPS):
            fields["security_groups"] = target.security_groups[:1]
        fields.update(overrides)
        instance = await target.backend.create_instance(InstanceRequest(**fields))
        target.created.append(instance.id)
        return instance

    # -- the life of a server ---------------------------------------------------------------

    async def test_create_then_poll_to_active(self, target: ContractTarget) -> None:
        created = await self.create(target, name="contract-create")
        assert created.id
        assert created.name == "contract-create"
        assert created.state in {S.BUILDING, S.STARTING, S.ACTIVE}
        active = await poll_state(target.backend, created.id, {S.ACTIVE}, target.poll_timeout)
        assert active.id == created.id
        assert active.address, "an ACTIVE server must have the address VISA connects to"
        assert await target.backend.ip_address(created.id) == active.address
        assert active.image_id in (None, target.image_id)

    async def test_created_server_is_listed(self, target: ContractTarget) -> None:
        created = await self.create(target)
        listed = {i.id: i for i in await target.backend.list_instances()}
        assert created.id in listed
        assert listed[created.id].name == created.name
        identifiers = {i.id: i.name for i in await target.backend.list_instance_identifiers()}
        assert identifiers[created.id] == created.name

    async def test_observed_instances_follow_the_cloud(self, target: ContractTarget) -> None:
        """What state sync reads: the created server shows up, ACTIVE with its address."""
        created = await self.create(target)
        await poll_state(target.backend, created.id, {S.ACTIVE}, target.poll_timeout)
        deadline = asyncio.get_running_loop().time() + target.poll_timeout
        while True:  # a cache-backed answer may be a moment behind
            observed = {i.id: i for i in await target.backend.observed_instances()}
            seen = observed.get(created.id)
            if seen is not None and seen.state is S.ACTIVE and seen.address:
                break
            assert asyncio.get_running_loop().time() < deadline, f"not observed: {seen}"
            await asyncio.sleep(0.05)
        assert seen.name == created.name

    async def test_shutdown_start_reboot(self, target: ContractTarget) -> None:
        backend = target.backend
        created = await self.create(target)
        await poll_state(backend, created.id, {S.ACTIVE}, target.poll_timeout)
        if not backend.supports(Capability.START_STOP):
            with pytest.raises(CloudNotSupportedError):
                await backend.shutdown_instance(created.id)
            return
        await backend.shutdown_instance(created.id)
        await poll_state(backend, created.id, {S.STOPPED}, target.poll_timeout)
        await backend.start_instance(created.id)
        await poll_state(backend, created.id, {S.ACTIVE}, target.poll_timeout)
        if backend.supports(Capability.REBOOT):
            await backend.reboot_instance(created.id)
            await poll_state(backend, created.id, {S.ACTIVE, S.REBOOTING}, target.poll_timeout)
            await poll_state(backend, created.id, {S.ACTIVE}, target.poll_timeout)

    async def test_delete(self, target: ContractTarget) -> None:
        created = await self.create(target)
        await target.backend.delete_instance(created.id)
        await poll_gone(target.backend, created.id, target.poll_timeout)
        assert created.id not in {i.id for i in await target.backend.list_instances()}

    # -- not found --------------------------------------------------------------------------

    async def test_unknown_server(self, target: ContractTarget) -> None:
        backend = target.backend
        missing = f"missing-{uuid.uuid4()}"
        assert await backend.get_instance(missing) is None
        with pytest.raises(CloudNotFoundError):
            await backend.delete_instance(missing)
        with pytest.raises(CloudNotFoundError):
            await backend.ip_address(missing)
        actions = []
        if backend.supports(Capability.START_STOP):
            actions += [backend.start_instance, backend.shutdown_instance]
        if backend.supports(Capability.REBOOT):
            actions.append(backend.reboot_instance)
        for action in actions:
            with pytest.raises(CloudNotFoundError) as caught:
                await action(missing)
            assert not caught.value.retryable
            assert caught.value.user_message

    async def test_catalogue(self, target: ContractTarget) -> None:
        backend = target.backend
        if not backend.supports(Capability.CATALOGUE):
            return
        images = await backend.images()
        assert target.image_id in {i.id for i in images}
        assert (await backend.image(target.image_id)) is not None
        assert await backend.image(f"missing-{uuid.uuid4()}") is None
        flavours = {f.id: f for f in await backend.flavours()}
        assert target.flavour_id in flavours
        flavour = flavours[target.flavour_id]
        assert flavour.cpus > 0 and flavour.ram > 0
        assert await backend.flavour(target.flavour_id) == flavour
        assert await backend.flavour(f"missing-{uuid.uuid4()}") is None

    async def test_limits(self, target: ContractTarget) -> None:
        if not target.backend.supports(Capability.LIMITS):
            with pytest.raises(CloudNotSupportedError):
                await target.backend.limits()
            return
        limits = await target.backend.limits()
        assert limits is not None
        assert limits.max_total_instances >= limits.total_instances_used >= 0
        assert limits.max_total_cores > 0 and limits.max_total_ram_size > 0

    async def test_security_groups(self, target: ContractTarget) -> None:
        backend = target.backend
        if not backend.supports(Capability.SECURITY_GROUPS):
            with pytest.raises(CloudNotSupportedError):
                await backend.add_security_group("any", "any")
            return
        first, second = target.security_groups[:2]
        names = await backend.security_groups()
        assert {first, second} <= set(names)
        assert names == sorted(set(names), key=lambda n: (n.lower(), n))
        created = await self.create(target, security_groups=(first,))
        assert await backend.instance_security_groups(created.id) == [first]
        await backend.add_security_group(created.id, second)
        assert sorted(await backend.instance_security_groups(created.id)) == sorted([first, second])
        await backend.remove_security_group(created.id, first)
        assert await backend.instance_security_groups(created.id) == [second]
        await backend.update_security_groups(created.id, [first])
        assert await backend.instance_security_groups(created.id) == [first]

    # -- faults -----------------------------------------------------------------------------

    @staticmethod
    def needs_remote(target: ContractTarget) -> None:
        if not target.remote:
            pytest.skip("a transport fault: the backend calls no remote API")

    async def test_server_going_to_error(self, target: ContractTarget) -> None:
        target.faults.servers_go_to_error(True)
        created = await self.create(target)
        failed = await poll_state(target.backend, created.id, {S.ERROR}, target.poll_timeout)
        assert failed.state is S.ERROR

    @pytest.mark.parametrize("status", [500, 503])
    async def test_server_errors_are_retryable(self, target: ContractTarget, status: int) -> None:
        self.needs_remote(target)
        await target.backend.list_instances()  # authenticated, endpoints known
        target.faults.fail_next(status, count=1)
        with pytest.raises(CloudUnavailableError) as caught:
            await target.backend.get_instance(f"any-{uuid.uuid4()}")
        assert caught.value.retryable
        assert caught.value.user_message
        assert await target.backend.get_instance(f"any-{uuid.uuid4()}") is None

    async def test_refused_request_is_not_retryable(self, target: ContractTarget) -> None:
        with pytest.raises(CloudError) as caught:
            await self.create(target, flavour_id=f"no-such-flavour-{uuid.uuid4().hex[:6]}")
        assert not isinstance(caught.value, CloudUnavailableError)
        assert not caught.value.retryable
        assert caught.value.user_message

    async def test_malformed_answer(self, target: ContractTarget) -> None:
        self.needs_remote(target)
        await target.backend.list_instances()
        target.faults.malformed_next(count=1)
        with pytest.raises(CloudError):
            await target.backend.list_instances()
        assert isinstance(await target.backend.list_instances(), list)

    async def test_hung_request_times_out(self, target: ContractTarget) -> None:
        self.needs_remote(target)
        await target.backend.list_instances()
        target.faults.hang_next(count=1)
        started = time.monotonic()
        with pytest.raises(CloudUnavailableError) as caught:
            await target.backend.get_instance(f"any-{uuid.uuid4()}")
        assert time.monotonic() - started <= target.call_bound
        assert caught.value.retryable

    async def test_refused_connection(self, target: ContractTarget) -> None:
        self.needs_remote(target)
        if target.unreachable is None:
            pytest.fail("the contract target must provide an unreachable backend")
        started = time.monotonic()
        with pytest.raises(CloudUnavailableError):
            await target.unreachable.list_instances()
        assert time.monotonic() - started <= target.call_bound

    async def test_concurrent_calls(self, target: ContractTarget) -> None:
        backend = target.backend
        created = await asyncio.gather(
            *(self.create(target, name=f"concurrent-{n}") for n in range(4))
        )
        assert len({c.id for c in created}) == 4
        calls: list[Awaitable[Any]] = [backend.get_instance(c.id) for c in created * 3]
        calls += [backend.list_instances() for _ in range(4)]
        results = await asyncio.gather(*calls)
        fetched = [r for r in results if isinstance(r, CloudInstance)]
        assert sorted(f.id for f in fetched) == sorted([c.id for c in created] * 3)
        for listing in (r for r in results if isinstance(r, list)):
            assert {c.id for c in created} <= {i.id for i in listing}
        await asyncio.gather(*(backend.delete_instance(c.id) for c in created))
        for instance in created:
            await poll_gone(backend, instance.id, target.poll_timeout)


class FakeServerFaults:
    """:class:`ContractFaults` of a :class:`~visa_platform.testing.fakehttp.FakeHttpServer`.

    ``match`` restricts injected faults to server requests (so authentication still works);
    ``set_error`` switches the fake's "servers go to ERROR" behaviour.
    """

    def __init__(self, server: Any, match: str, set_error: Callable[[bool], None]) -> None:
        self.server = server
        self.match = match
        self._set_error = set_error

    def fail_next(self, status: int, count: int = 1) -> None:
        self.server.faults.fail_next(status, count, match=self.match)

    def hang_next(self, count: int = 1) -> None:
        self.server.faults.hang_next(count, match=self.match)

    def malformed_next(self, count: int = 1) -> None:
        self.server.faults.malformed_next(count, match=self.match)

    def servers_go_to_error(self, enabled: bool) -> None:
        self._set_error(enabled)

    def clear(self) -> None:
        self.server.faults.clear()


__all__ = [
    "ComputeBackendContract",
    "ContractFaults",
    "ContractTarget",
    "FakeServerFaults",
    "poll_gone",
    "poll_state",
]
