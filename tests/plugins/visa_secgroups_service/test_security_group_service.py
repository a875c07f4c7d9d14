"""The security-group service plugin against a fake of the service over HTTP, on both databases."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from visa_platform.config import load_settings
from visa_platform.db.models.cloud import Flavour, Image, Plan, SecurityGroup
from visa_platform.db.models.facility import Experiment, Instrument, Proposal
from visa_platform.db.models.instances import Instance, InstanceAttribute, InstanceMember
from visa_platform.db.models.users import User
from visa_platform.domain.enums import InstanceMemberRole, InstanceState
from visa_platform.plugin import PluginHost
from visa_platform.plugin.types import SecurityGroupQuery
from visa_platform.testing.fake_secgroups import FakeSecurityGroupService
from visa_secgroups_service import plugin

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


async def seed(session: Any) -> int:
    owner = User(id="u1", first_name="Ada", last_name="Lovelace", email="ada@example.org")
    guest = User(id="u2", last_name="Guest")
    flavour = Flavour(name="large", cpu=4, memory=8192, compute_id="f-large")
    image = Image(name="Ubuntu", version="24.04", icon="ubuntu.png", compute_id="img-1")
    session.add_all([owner, guest, flavour, image, Instrument(id=5, name="IN5")])
    session.add(Proposal(id=10, identifier="P10", title="Water"))
    session.add(SecurityGroup(name="default"))
    await session.flush()
    plan = Plan(image_id=image.id, flavour_id=flavour.id)
    experiment = Experiment(
        id="exp-1", instrument_id=5, proposal_id=10, start_date=START, end_date=START
    )
    session.add_all([plan, experiment])
    await session.flush()
    instance = Instance(
        uid="abcd1234",
        name="analysis",
        state=InstanceState.ACTIVE,
        screen_width=1280,
        screen_height=1024,
        plan_id=plan.id,
        termination_date=START,
    )
    instance.members = [
        InstanceMember(user_id="u1", role=InstanceMemberRole.OWNER),
        InstanceMember(user_id="u2", role=InstanceMemberRole.GUEST),
    ]
    instance.attributes = [InstanceAttribute(name="homePath", value="/home/ada")]
    instance.experiments = [experiment]
    session.add(instance)
    await session.flush()
    return instance.id


def query(instance_id: int) -> SecurityGroupQuery:
    return SecurityGroupQuery(
        instance_id=instance_id,
        instance_uid="abcd1234",
        owner_id="u1",
        owner_roles=frozenset(),
        flavour_id=None,
        cloud_id=None,
    )


async def started_host(tmp_path: Path, **settings: Any) -> PluginHost:
    host = PluginHost()
    host.load_entry_points(allow=["secgroups", "secgroups_service"])
    app = SimpleNamespace(
        config={"VISA_SETTINGS": load_settings(environ={}, data_dir=tmp_path, **settings)}
    )
    await host.startup(app)
    return host


@pytest.fixture
async def service() -> Any:
    async with FakeSecurityGroupService(auth_token="sg-secret", groups=["in5-nfs"]) as fake:
        yield fake
    await plugin.close()


async def test_custom_groups_come_after_the_database_groups(
    db_session: Any, service: FakeSecurityGroupService, tmp_path: Path
) -> None:
    instance_id = await seed(db_session)
    host = await started_host(
        tmp_path,
        security_group_service_client_enabled=True,
        security_group_service_client_url=service.endpoint,
        security_group_service_client_auth_token="sg-secret",
    )
    service.groups = ["in5-nfs", "default", "in5-nfs"]
    assert await host.instance_security_groups(query(instance_id), db_session) == [
        "default",
        "in5-nfs",
    ]
    [sent] = service.received
    assert sent["id"] == instance_id and sent["uid"] == "abcd1234" and sent["cloudId"] == -1
    assert [(m["role"], m["user"]["id"]) for m in sent["members"]] == [
        ("OWNER", "u1"),
        ("GUEST", "u2"),
    ]
    assert sent["owner"]["email"] == "ada@example.org"
    [experiment] = sent["experiments"]
    assert experiment["instrument"] == {"id": 5, "name": "IN5"}
    assert experiment["startDate"].startswith("2026-01-05T08:00")
    assert sent["plan"]["flavour"]["name"] == "large"
    assert sent["plan"]["image"]["version"] == "24.04"
    assert sent["attributes"] == [{"name": "homePath", "value": "/home/ada"}]
    assert sent["terminationDate"].startswith("2026-01-05T08:00")
    await host.shutdown(SimpleNamespace(config={}))
    assert plugin.client() is None


async def test_errors_give_no_custom_groups(
    db_session: Any,
    service: FakeSecurityGroupService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    instance_id = await seed(db_session)
    host = await started_host(
        tmp_path,
        security_group_service_client_enabled=True,
        security_group_service_client_url=service.endpoint,
        security_group_service_client_auth_token="wrong",
    )
    with caplog.at_level(logging.ERROR, "visa_secgroups_service"):
        assert await host.instance_security_groups(query(instance_id), db_session) == ["default"]
        assert "status=401" in caplog.text
        assert "sg-secret" not in caplog.text and "wrong" not in caplog.text

        await plugin.configure(
            load_settings(
                environ={},
                data_dir=tmp_path,
                security_group_service_client_enabled=True,
                security_group_service_client_url=service.endpoint,
                security_group_service_client_auth_token="sg-secret",
            )
        )
        service.faults.fail_next(503)
        assert await host.instance_security_groups(query(instance_id), db_session) == ["default"]
        service.faults.malformed_next()
        assert await host.instance_security_groups(query(instance_id), db_session) == ["default"]
        assert "outcome=bad_response" in caplog.text
        assert await host.instance_security_groups(query(instance_id), db_session) == [
            "default",
            "in5-nfs",
        ]
        await service.stop()
        assert await host.instance_security_groups(query(instance_id), db_session) == ["default"]
        assert "outcome=unreachable" in caplog.text


async def test_not_asked_unless_enabled_with_a_url(
    db_session: Any, service: FakeSecurityGroupService, tmp_path: Path
) -> None:
    instance_id = await seed(db_session)
    for settings in (
        {"security_group_service_client_url": service.endpoint},
        {"security_group_service_client_enabled": True},
    ):
        host = await started_host(tmp_path, **settings)
        assert plugin.client() is None
        assert await host.instance_security_groups(query(instance_id), db_session) == ["default"]
    assert service.received == []
