"""A small facility for the admin GraphQL tests: users, groups, catalogue, instances, sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import (
    Employer,
    Experiment,
    Flavour,
    FlavourLimit,
    FlavourRoleLifetime,
    Image,
    Instance,
    InstanceAttribute,
    InstanceExtensionRequest,
    InstanceJupyterSession,
    InstanceMember,
    InstanceSession,
    InstanceSessionMember,
    Instrument,
    Plan,
    Proposal,
    Protocol,
    Role,
    SecurityGroup,
    SecurityGroupFilter,
    SystemNotification,
    User,
    UserRole,
)
from visa_platform.db.models.facility import experiment_user
from visa_platform.db.seed import seed_fixtures
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import (
    FlavourLimitObjectType,
    ImageAutoAcceptExtensionRequest,
    InstanceExtensionRequestState,
    InstanceMemberRole,
    InstanceState,
    SecurityGroupFilterObjectType,
    SystemNotificationLevel,
    SystemNotificationType,
)

LAYOUT = "en-gb-qwerty"


@dataclass
class World:
    plan: Plan
    image: Image
    flavour: Flavour
    group: Role
    instances: list[Instance]
    extension_request: InstanceExtensionRequest
    notification: SystemNotification


async def build_world(session: AsyncSession, *, instance_count: int = 3) -> World:
    """Users 1001 (Ada, owner of every instance, on e-1), 1002 (Alan, member), 1003 (Grace,
    never logged in); group "beamline-team"; one plan; ``instance_count`` instances (the first
    ACTIVE with a live desktop session and a Jupyter session, the others STOPPED); a pending
    extension request on the first; an active banner notification; a security group filter."""
    await seed_fixtures(session)
    guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
    staff = await session.scalar(select(Role).where(Role.name == "STAFF"))
    assert guacd is not None and staff is not None
    now = utcnow()
    employer = Employer(id=7, name="ILL", town="Grenoble", country_code="FR")
    group = Role(name="beamline-team", description="D22 team", group_created_at=now)
    image = Image(
        name="Ubuntu",
        version="24.04",
        icon="ubuntu.png",
        compute_id="img-1",
        visible=True,
        deleted=False,
        auto_accept_extension_request=ImageAutoAcceptExtensionRequest.NONE,
    )
    image.protocols = [guacd]
    image.default_vdi_protocol = guacd
    flavour = Flavour(name="Small", cpu=2, memory=4096, compute_id="fl-1", deleted=False)
    plan = Plan(image=image, flavour=flavour, preset=True)
    instrument = Instrument(id=9, name="D22")
    proposal = Proposal(id=100, identifier="9-01-123", title="Proteins")
    experiment = Experiment(
        id="e-1",
        instrument=instrument,
        proposal=proposal,
        start_date=now - timedelta(days=30),
        end_date=now - timedelta(days=25),
    )
    users = [
        User(
            id="1001",
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.org",
            affiliation=employer,
            activated_at=now - timedelta(days=10),
            last_seen_at=now - timedelta(hours=1),
            instance_quota=5,
        ),
        User(
            id="1002",
            first_name="Alan",
            last_name="Turing",
            email="alan@example.org",
            activated_at=now - timedelta(days=20),
            last_seen_at=now - timedelta(hours=5),
            instance_quota=2,
        ),
        User(id="1003", first_name="Grace", last_name="Hopper", instance_quota=2),
    ]
    notification = SystemNotification(
        message="Maintenance on Friday",
        level=SystemNotificationLevel.WARN,
        type=SystemNotificationType.BANNER,
        activated_at=now,
    )
    security_group = SecurityGroup(name="d22-data")
    session.add_all([plan, experiment, group, *users, notification, security_group])
    await session.flush()
    session.add_all(
        [
            UserRole(user_id="1001", role_id=staff.id),
            UserRole(user_id="1001", role_id=group.id),
            FlavourLimit(
                object_id=instrument.id,
                object_type=FlavourLimitObjectType.INSTRUMENT,
                flavour_id=flavour.id,
            ),
            FlavourRoleLifetime(flavour_id=flavour.id, role_id=staff.id, duration_minutes=600),
            SecurityGroupFilter(
                object_id=instrument.id,
                object_type=SecurityGroupFilterObjectType.INSTRUMENT,
                security_group_id=security_group.id,
            ),
        ]
    )
    await session.execute(
        experiment_user.insert().values([{"experiment_id": "e-1", "user_id": "1001"}])
    )
    instances = []
    for index in range(instance_count):
        active = index == 0
        instance = Instance(
            uid=f"uid{index:05d}",
            name=f"desktop {index}",
            compute_id=f"server-{index}",
            plan_id=plan.id,
            username="ada",
            state=InstanceState.ACTIVE if active else InstanceState.STOPPED,
            screen_width=1280,
            screen_height=1024,
            keyboard_layout=LAYOUT,
            termination_date=now + timedelta(days=3),
            lifetime_minutes=4320,
            vdi_protocol_id=guacd.id,
            delete_requested=False,
            active_protocols="GUACD" if active else None,
            ip_address="10.0.0.1" if active else None,
        )
        instance.members = [
            InstanceMember(user_id="1001", role=InstanceMemberRole.OWNER),
            InstanceMember(user_id="1002", role=InstanceMemberRole.USER),
        ]
        instance.experiments = [experiment]
        instance.attributes = [InstanceAttribute(name="homePath", value="/home/ada")]
        instances.append(instance)
    session.add_all(instances)
    await session.flush()
    first = instances[0]
    desktop = InstanceSession(
        instance_id=first.id, connection_id="conn-1", protocol="GUACAMOLE", current=True
    )
    session.add(desktop)
    await session.flush()
    session.add_all(
        [
            InstanceSessionMember(
                instance_session_id=desktop.id,
                session_id="client-1",
                user_id="1001",
                role=InstanceMemberRole.OWNER,
                active=True,
                last_interaction_at=now,
            ),
            InstanceJupyterSession(
                instance_id=first.id,
                user_id="1001",
                kernel_id="kernel-1",
                session_id="jupyter-1",
                active=True,
            ),
        ]
    )
    request = InstanceExtensionRequest(
        instance_id=first.id,
        comments="Need two more days",
        state=InstanceExtensionRequestState.PENDING,
        original_termination_date=first.termination_date,
    )
    session.add(request)
    await session.commit()
    return World(plan, image, flavour, group, instances, request, notification)


def settings_overrides(test_database: Any, tmp_path: Any, **changes: Any) -> dict[str, Any]:
    values = {
        "database_url": test_database.url,
        "database_schema": test_database.schema,
        "data_dir": tmp_path / "data",
        "accounts_provider": "static",
        "accounts_static_allow_postgresql": True,
        "client_config_desktop_keyboard_layouts": [
            {"layout": LAYOUT, "name": "English (UK)", "selected": True}
        ],
        "scheduler_enabled": False,
        "default_cloud_provider_type": "null",
    }
    values.update(changes)
    return values


async def add_instances(session: AsyncSession, world: World, count: int, start: int) -> None:
    """``count`` more instances like the first one (owner, member, experiment, attribute,
    an active desktop session member), numbered from ``start``."""
    experiment = await session.get(Experiment, "e-1")
    now = utcnow()
    for index in range(start, start + count):
        instance = Instance(
            uid=f"uid{index:05d}",
            name=f"desktop {index}",
            compute_id=f"server-{index}",
            plan_id=world.plan.id,
            username="ada",
            state=InstanceState.ACTIVE,
            screen_width=1280,
            screen_height=1024,
            keyboard_layout=LAYOUT,
            termination_date=now + timedelta(days=3),
            vdi_protocol_id=world.image.default_vdi_protocol_id,
            delete_requested=False,
        )
        instance.members = [
            InstanceMember(user_id="1001", role=InstanceMemberRole.OWNER),
            InstanceMember(user_id="1002", role=InstanceMemberRole.USER),
        ]
        instance.experiments = [experiment]
        instance.attributes = [InstanceAttribute(name="homePath", value="/home/ada")]
        session.add(instance)
        await session.flush()
        desktop = InstanceSession(
            instance_id=instance.id, connection_id=f"c-{index}", protocol="GUACAMOLE", current=True
        )
        session.add(desktop)
        await session.flush()
        session.add(
            InstanceSessionMember(
                instance_session_id=desktop.id,
                session_id=f"client-{index}",
                user_id="1002",
                role=InstanceMemberRole.USER,
                active=True,
                last_interaction_at=now,
            )
        )
    await session.commit()
