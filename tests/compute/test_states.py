"""Cloud state -> instance state (spec/domain.md §2.3)."""

from __future__ import annotations

import pytest

from visa_platform.compute import CloudInstance, next_instance_state, parse_cloud_state
from visa_platform.compute.states import cloud_state_ignored, instance_state_for
from visa_platform.domain.enums import CloudInstanceState as C
from visa_platform.domain.enums import InstanceCommandType as Cmd
from visa_platform.domain.enums import InstanceState as I


def server(state: C, address: str | None = "127.0.0.9") -> CloudInstance:
    return CloudInstance(id="s", name="n", state=state, address=address)


@pytest.mark.parametrize("state", list(C))
def test_every_cloud_state_has_the_instance_state_of_its_name(state: C) -> None:
    assert instance_state_for(state).value == state.value


def test_missing_server_is_deleted_and_loses_its_ip() -> None:
    update = next_instance_state(None)
    assert (update.state, update.update_ip, update.ip_address) == (I.DELETED, True, None)


def test_active_updates_the_ip_and_asks_for_a_port_check() -> None:
    update = next_instance_state(server(C.ACTIVE))
    assert update.state is I.ACTIVE
    assert (update.update_ip, update.ip_address, update.port_check) == (True, "127.0.0.9", True)


def test_active_migrating_is_checked_but_keeps_the_ip() -> None:
    update = next_instance_state(server(C.ACTIVE_MIGRATING))
    assert (update.state, update.update_ip, update.port_check) == (I.ACTIVE_MIGRATING, False, True)


@pytest.mark.parametrize("state", [C.BUILDING, C.STOPPED, C.ERROR, C.REBOOTING, C.UNKNOWN])
def test_other_states_are_stored_as_they_are(state: C) -> None:
    update = next_instance_state(server(state), Cmd.START)
    assert (update.state, update.update_ip, update.port_check) == (I(state.value), False, False)


@pytest.mark.parametrize(
    ("command", "state", "ignored"),
    [
        (Cmd.DELETE, C.ACTIVE, True),
        (Cmd.REBOOT, C.STOPPED, True),
        (Cmd.DELETE, C.STOPPED, False),
        (Cmd.REBOOT, C.ACTIVE, False),
        (None, C.ACTIVE, False),
    ],
)
def test_stale_cloud_states_are_ignored(command: Cmd | None, state: C, ignored: bool) -> None:
    assert cloud_state_ignored(state, command) is ignored
    update = next_instance_state(server(state), command)
    assert (update.state is None) is ignored


def test_parse_cloud_state() -> None:
    assert parse_cloud_state("active") is C.ACTIVE
    assert parse_cloud_state(" STARTING ") is C.STARTING
    assert parse_cloud_state("nonsense") is C.UNKNOWN
    assert parse_cloud_state(None) is C.UNKNOWN
