"""The default security-group plugin: database filters of spec/domain.md §5, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from visa_platform.db.models.cloud import (
    CloudProviderConfiguration,
    Flavour,
    SecurityGroup,
    SecurityGroupFilter,
)
from visa_platform.db.models.users import Role
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import SecurityGroupFilterObjectType as T
from visa_platform.plugin import PluginHost
from visa_platform.plugin.types import SecurityGroupQuery
from visa_secgroups.rules import security_groups


def query(roles: set[str], flavour_id: int | None = None, cloud_id: int | None = None) -> Any:
    return SecurityGroupQuery(
        instance_id=1,
        instance_uid="abcd1234",
        owner_id="u1",
        owner_roles=frozenset(roles),
        flavour_id=flavour_id,
        cloud_id=cloud_id,
    )


async def seed(session: Any) -> dict[str, Any]:
    staff, scientist = Role(name="STAFF"), Role(name="SCIENTIST")
    old_group = Role(name="OLD_GROUP", group_created_at=utcnow(), group_deleted_at=utcnow())
    team = Role(name="TEAM", group_created_at=utcnow())
    cloud = CloudProviderConfiguration(
        type="openstack", name="B", server_name_prefix="b", visible=True
    )
    gone = CloudProviderConfiguration(
        type="openstack",
        name="C",
        server_name_prefix="c",
        visible=True,
        deleted_at=utcnow() - timedelta(days=1),
    )
    session.add_all([staff, scientist, old_group, team, cloud, gone])
    await session.flush()
    gpu = Flavour(name="gpu", cpu=8, memory=1024, compute_id="gpu")
    old = Flavour(name="old", cpu=1, memory=1024, compute_id="old", deleted=True)
    session.add_all([gpu, old])
    await session.flush()

    def group(name: str, cloud_id: int | None = None, *filters: tuple[T, int]) -> None:
        sg = SecurityGroup(name=name, cloud_provider_configuration_id=cloud_id)
        sg.filters = [SecurityGroupFilter(object_type=t, object_id=i) for t, i in filters]
        session.add(sg)

    group("default")
    group("staff-ssh", None, (T.ROLE, staff.id))
    group("team-web", None, (T.ROLE, team.id))
    group("old-group", None, (T.ROLE, old_group.id))
    group("gpu-net", None, (T.FLAVOUR, gpu.id))
    group("old-flavour", None, (T.FLAVOUR, old.id))
    group("instrument-only", None, (T.INSTRUMENT, 5))
    group("staff-or-gpu", None, (T.ROLE, staff.id), (T.FLAVOUR, gpu.id))
    group("cloud-b-default", cloud.id)
    group("cloud-b-staff", cloud.id, (T.ROLE, staff.id))
    group("cloud-c-default", gone.id)
    await session.flush()
    return {"staff": staff, "team": team, "gpu": gpu, "old": old, "cloud": cloud, "gone": gone}


async def test_default_groups_only_for_a_plain_user(db_session: Any) -> None:
    await seed(db_session)
    assert await security_groups(db_session, query(set())) == ["default"]
    assert await security_groups(db_session, query({"NO_SUCH_ROLE"})) == ["default"]


async def test_role_and_group_filters_in_order(db_session: Any) -> None:
    await seed(db_session)
    assert await security_groups(db_session, query({"STAFF"})) == [
        "default",
        "staff-ssh",
        "staff-or-gpu",
    ]
    # a group counts like a role; a deleted group does not
    assert await security_groups(db_session, query({"TEAM", "OLD_GROUP"})) == [
        "default",
        "team-web",
    ]


async def test_flavour_filters_and_deleted_flavours(db_session: Any) -> None:
    seeded = await seed(db_session)
    gpu, old = seeded["gpu"].id, seeded["old"].id
    assert await security_groups(db_session, query(set(), gpu)) == [
        "default",
        "gpu-net",
        "staff-or-gpu",
    ]
    assert await security_groups(db_session, query(set(), old)) == ["default"]
    # role groups come before flavour groups; a group matched twice is listed once
    assert await security_groups(db_session, query({"STAFF"}, gpu)) == [
        "default",
        "staff-ssh",
        "staff-or-gpu",
        "gpu-net",
    ]


async def test_admin_owner_gets_every_group_of_the_cloud(db_session: Any) -> None:
    seeded = await seed(db_session)
    default_cloud = await security_groups(db_session, query({"ADMIN"}))
    assert default_cloud == [
        "default",
        "staff-ssh",
        "team-web",
        "old-group",
        "gpu-net",
        "old-flavour",
        "instrument-only",
        "staff-or-gpu",
    ]
    assert await security_groups(db_session, query({"ADMIN"}, cloud_id=-1)) == default_cloud
    assert await security_groups(db_session, query({"ADMIN"}, cloud_id=seeded["cloud"].id)) == [
        "cloud-b-default",
        "cloud-b-staff",
    ]
    assert await security_groups(db_session, query({"ADMIN"}, cloud_id=seeded["gone"].id)) == []


async def test_groups_follow_the_instance_cloud(db_session: Any) -> None:
    seeded = await seed(db_session)
    cloud = seeded["cloud"].id
    assert await security_groups(db_session, query({"STAFF"}, cloud_id=cloud)) == [
        "cloud-b-default",
        "cloud-b-staff",
    ]
    # a deleted cloud's groups never match
    assert await security_groups(db_session, query(set(), cloud_id=seeded["gone"].id)) == []


async def test_the_plugin_answers_the_hook(db_session: Any) -> None:
    await seed(db_session)
    host = PluginHost()
    host.load_entry_points(allow=["secgroups"])
    assert await host.instance_security_groups(query({"STAFF"}), db_session) == [
        "default",
        "staff-ssh",
        "staff-or-gpu",
    ]
