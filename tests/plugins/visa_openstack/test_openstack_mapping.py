"""Nova states and addresses are read as VISA reads them (spec/domain.md §2.2)."""

from __future__ import annotations

import pytest

from visa_openstack.mapping import cloud_state, pick_address
from visa_platform.domain.enums import CloudInstanceState as S


@pytest.mark.parametrize(
    ("status", "task", "vm", "expected"),
    [
        ("BUILD", None, "building", S.BUILDING),
        ("REBUILD", None, None, S.BUILDING),
        ("ACTIVE", "powering-off", "active", S.STOPPING),
        ("ACTIVE", None, "active", S.ACTIVE),
        ("ACTIVE", "powering-on", "stopped", S.ACTIVE),
        ("HARD_REBOOT", None, None, S.REBOOTING),
        ("REBOOT", None, None, S.REBOOTING),
        ("MIGRATING", None, "active", S.ACTIVE_MIGRATING),
        ("MIGRATING", None, "stopped", S.MIGRATING),
        ("RESCUE", None, None, S.UNAVAILABLE),
        ("RESIZE", None, None, S.UNAVAILABLE),
        ("REVERT_RESIZE", None, None, S.UNAVAILABLE),
        ("VERIFY_RESIZE", None, None, S.UNAVAILABLE),
        ("DELETED", None, None, S.DELETED),
        ("SHELVED", None, None, S.DELETED),
        ("SHELVED_OFFLOADED", None, None, S.DELETED),
        ("SOFT_DELETED", None, None, S.DELETED),
        ("PAUSED", None, None, S.STOPPED),
        ("SHUTOFF", None, None, S.STOPPED),
        ("SUSPENDED", None, None, S.STOPPED),
        ("ERROR", None, None, S.ERROR),
        ("UNKNOWN", None, None, S.UNKNOWN),
        ("SOMETHING_NEW", None, None, S.UNKNOWN),
        (None, None, None, S.UNKNOWN),
        ("shutoff", None, None, S.STOPPED),
    ],
)
def test_cloud_state(status: str | None, task: str | None, vm: str | None, expected: S) -> None:
    assert cloud_state(status, task, vm) is expected


ADDRESSES = {
    "public": [{"version": 6, "addr": "2001:db8::1"}, {"version": 4, "addr": "192.0.2.7"}],
    "private": [{"version": 4, "addr": "10.0.0.5"}, {"version": 4, "addr": "10.0.0.6"}],
}


def test_address_on_the_address_provider_network() -> None:
    assert pick_address(ADDRESSES, "private") == "10.0.0.5"


def test_no_address_when_the_network_is_absent() -> None:
    assert pick_address(ADDRESSES, "data") is None
    assert pick_address({}, "private") is None
    assert pick_address(None, None) is None


def test_first_ipv4_address_without_address_provider() -> None:
    assert pick_address(ADDRESSES, None) == "192.0.2.7"
