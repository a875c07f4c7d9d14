"""The model set against spec/domain.md §1, on a real SQLite and a real PostgreSQL database.

``EXPECTED_COLUMNS`` is written from the spec, not from the models: a missing, misnamed,
wrongly nullable or wrongly sized column fails ``test_every_table_has_the_spec_columns``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from visa_platform.db.base import Base
from visa_platform.db.models import (
    Employer,
    Experiment,
    Flavour,
    Image,
    Instance,
    InstanceAttribute,
    InstanceExpiration,
    InstanceMember,
    Instrument,
    Plan,
    Proposal,
    Protocol,
    Role,
    User,
    UserRole,
)
from visa_platform.domain import enums
from visa_platform.domain.enums import InstanceMemberRole, InstanceState

# "name:250!" = VARCHAR(250) NOT NULL; no length = not a VARCHAR; no "!" = nullable.
_TS = "created_at!, updated_at!"
_CLOUD = "cloud_provider_configuration_id"
EXPECTED_COLUMNS: dict[str, str] = {
    # §1.1
    "employer": "id!, name:200, town:100, country_code:10",
    "users": (
        "id:250!, first_name:100, last_name:100!, email:100, affiliation_id, last_seen_at,"
        " activated_at, instance_quota!"
    ),
    "role": "id!, name:100!, description:250, group_created_at, group_deleted_at",
    "user_role": "user_id:250!, role_id!, expires_at",
    # §1.2
    "instrument": "id!, name:250!",
    "instrument_scientist": "instrument_id!, user_id:250!",
    "proposal": ("id!, identifier:100!, title:2000, public_at, summary:5000, url:2000, doi:2000"),
    "experiment": (
        "id:32!, instrument_id!, proposal_id!, start_date, end_date, title:2000, url:2000, doi:2000"
    ),
    "experiment_user": "experiment_id:32!, user_id:250!",
    "instance_experiment": "experiment_id:32!, instance_id!",
    # §1.3
    "cloud_provider_configuration": (
        f"id!, {_TS}, type:100!, name:100, server_name_prefix:100!, visible!, deleted_at"
    ),
    "cloud_provider_configuration_parameter": (f"id!, {_TS}, key:256!, value:8192!, {_CLOUD}!"),
    "image": (
        f"id!, {_TS}, name:250!, version:100, description:2500, icon:100!, compute_id:250!,"
        " deleted!, visible!, boot_command, autologin:255, default_vdi_protocol,"
        f" secondary_vdi_protocol, {_CLOUD}, auto_accept_extension_request:50"
    ),
    "protocol": "id!, name:100!, port!",
    "image_protocol": "image_id!, protocol_id!",
    "flavour": f"id!, {_TS}, name:250!, cpu!, memory!, compute_id:250!, deleted!, {_CLOUD}",
    "flavour_limit": "id!, object_id!, object_type:255!, flavour_id!",
    "flavour_role_lifetime": "id!, flavour_id!, role_id, duration_minutes!",
    "device_pool": (
        f"id!, {_TS}, compute_identifier:250!, name:250!, description:1000!,"
        f" resource_class:250, device_type:255, total_units, deleted_at, {_CLOUD}"
    ),
    "flavour_device": "flavour_id!, device_pool_id!, unit_count!",
    "plan": f"id!, {_TS}, image_id, flavour_id, preset!, deleted_at",
    "security_group": f"id!, name:250!, {_CLOUD}",
    "security_group_filter": "id!, object_id!, object_type:255!, security_group_id!",
    "cloud_resources": (
        f"id!, {_TS}, vcpu_total!, vcpu_usage!, memory_mb_total!, memory_mb_usage!,"
        f" instances_total!, instances_usage!, {_CLOUD}"
    ),
    "hypervisor": (
        f"id!, {_TS}, compute_id:250!, hostname:250!, state:255!, status:255!, {_CLOUD}"
    ),
    "hypervisor_resource": "id!, hypervisor_id!, resource_class:250!, total!, usage",
    "hypervisor_allocation": "id!, hypervisor_id!, server_compute_id:250!",
    "configuration": "id!, key:256!, value:8192!",
    "application_credential": (
        "id!, name:250!, application_id:255!, application_secret:255!, salt:255!,"
        " last_used_at, deleted_at"
    ),
    # §1.4
    "instance": (
        f"id!, {_TS}, uid:16!, compute_id:250, name:250!, comments:2500, plan_id,"
        " username:100, ip_address:255, state:50!, screen_width!, screen_height!,"
        " keyboard_layout:100!, last_seen_at, last_interaction_at, termination_date,"
        " delete_requested!, deleted_at, security_groups, expiration_date, active_at,"
        " unrestricted_member_access, active_protocols, state_hash, vdi_protocol,"
        " public_access_token:250, public_access_role:255, lifetime_minutes, booking_token_id"
    ),
    "instance_member": f"id!, {_TS}, instance_id!, user_id:250!, role:255!",
    "instance_attribute": f"id!, {_TS}, instance_id!, name:255!, value:255!",
    "instance_command": (
        f"id!, {_TS}, instance_id!, user_id:250, action_type:50!, state:50!, message:255"
    ),
    "instance_expiration": f"id!, {_TS}, instance_id!, expiration_date!",
    "instance_extension_request": (
        f"id!, {_TS}, instance_id!, comments:4000, state:50!, original_termination_date!,"
        " extension_date, handler_id:250, handled_on, handler_comments:4000"
    ),
    "instance_thumbnail": f"id!, {_TS}, instance_id!, data!",
    "instance_authentication_token": (
        f"id!, {_TS}, token:250!, instance_id!, user_id:250!, public_access_token:250"
    ),
    "client_authentication_token": f"id!, {_TS}, client_id:250!, token:250!, user_id:255!",
    "personal_access_token": (
        f"id!, {_TS}, token:250!, name:250!, instance_id!, role:255, user_id:250,"
        " activated_at, deleted_at"
    ),
    "instance_session": (f"id!, {_TS}, instance_id!, connection_id:150!, protocol:150, current!"),
    "instance_session_member": (
        f"id!, {_TS}, instance_session_id!, session_id:150!, user_id:250!, role:150!,"
        " active!, last_interaction_at"
    ),
    "instance_jupyter_session": (
        f"id!, {_TS}, instance_id!, user_id:250!, kernel_id:150!, session_id:150!, active!"
    ),
    "instance_activity": f"id!, {_TS}, user_id:250!, instance_id!, activity_type:50!",
    "instance_device_allocation": "instance_id!, device_pool_id!, unit_count!",
    # §1.5
    "system_notification": (
        f"id!, {_TS}, message:4096!, level:50!, type:50, activated_at, deleted_at"
    ),
    "acknowledged_system_notification": "system_notification_id!, acknowledged_by_user_id:250!",
    # §1.6
    "booking_configuration": (
        f"id!, {_TS}, enabled!, max_instances_per_reservation, max_days_reservation, {_CLOUD}"
    ),
    "booking_configuration_flavour": "booking_configuration_id!, flavour_id!",
    "booking_role_configuration": "id!, booking_configuration_id!, role_id, auto_accept!",
    "booking_flavour_role_configuration": (
        "id!, booking_configuration_id!, flavour_id, role_id, max_instances_per_reservation,"
        " max_days_reservation"
    ),
    "booking_request": (
        f"id!, {_TS}, uid:16!, name:250!, start_date!, end_date!, owner_id:250!, state:50!,"
        " deleted_at"
    ),
    "booking_request_flavour": "id!, booking_request_id!, flavour_id!, quantity!",
    "booking_request_history": (
        f"id!, {_TS}, booking_request_id!, state:50!, comments:2500, actor_id:250!"
    ),
    "booking_token": (
        f"id!, {_TS}, uid:16!, booking_request_id!, flavour_id!, instance_id, owner_id:250,"
        " deleted_at"
    ),
    "booking_token_history": f"id!, {_TS}, booking_token_id!, owner_id:250!, instance_id!",
}

# table -> (primary-key columns, primary-key constraint name)
EXPECTED_COMPOSITE_PKS: dict[str, tuple[list[str], str]] = {
    "user_role": (["user_id", "role_id"], "user_role_pkey"),
    "instrument_scientist": (["instrument_id", "user_id"], "instrument_responsible_pkey"),
    "experiment_user": (["experiment_id", "user_id"], "experiment_user_pkey"),
    "instance_experiment": (["experiment_id", "instance_id"], "instance_experiment_pkey"),
    "flavour_device": (["flavour_id", "device_pool_id"], "flavour_device_pkey"),
    "instance_device_allocation": (
        ["instance_id", "device_pool_id"],
        "instance_device_allocation_pkey",
    ),
    "acknowledged_system_notification": (
        ["system_notification_id", "acknowledged_by_user_id"],
        "acknowledged_system_notification_pkey",
    ),
}

EXPECTED_CHECKS: dict[str, set[str]] = {
    "instance": {"instance_state_check", "instance_public_access_role_check"},
    "instance_member": {"instance_member_role_check"},
    "instance_command": {"instance_command_action_type_check", "instance_command_state_check"},
    "instance_extension_request": {"instance_extension_request_state_check"},
    "instance_session_member": {"instance_session_member_role_check"},
    "instance_activity": {"instance_activity_activity_type_check"},
    "personal_access_token": {"personal_access_token_role_check"},
    "image": {"image_auto_accept_extension_request_check"},
    "flavour_limit": {"flavour_limit_object_type_check"},
    "security_group_filter": {"security_group_filter_object_type_check"},
    "device_pool": {"device_pool_device_type_check"},
    "system_notification": {"system_notification_level_check", "system_notification_type_check"},
    "booking_request": {"booking_request_state_check"},
    "booking_request_history": {"booking_request_history_state_check"},
}


def _parse(spec: str) -> dict[str, tuple[int | None, bool]]:
    """``"a:10!, b"`` -> ``{"a": (10, False), "b": (None, True)}`` (length, nullable)."""
    columns: dict[str, tuple[int | None, bool]] = {}
    for token in (t.strip() for t in spec.split(",")):
        nullable = not token.endswith("!")
        name, _, length = token.rstrip("!").partition(":")
        columns[name] = (int(length) if length else None, nullable)
    return columns


async def _reflect(session: AsyncSession, fn: Any) -> Any:
    """Run ``fn(inspector)`` on the session's connection (what is really in the database)."""
    return await session.run_sync(lambda sync_session: fn(inspect(sync_session.connection())))


# --------------------------------------------------------------------------------- schema shape


def test_enum_values_are_their_names() -> None:
    """Enum columns store member names; the API emits values: both must be the same string."""
    classes = [getattr(enums, name) for name in enums.__all__]
    assert len(classes) >= 17
    for enum_class in classes:
        for member in enum_class:
            assert member.value == member.name == str(member), member


def test_metadata_holds_every_spec_table() -> None:
    assert set(EXPECTED_COLUMNS) <= set(Base.metadata.tables)
    assert "schema_migrations" not in Base.metadata.tables


async def test_every_table_has_the_spec_columns(db_session: AsyncSession) -> None:
    def columns(inspector: Any) -> dict[str, dict[str, tuple[int | None, bool]]]:
        return {
            table: {
                c["name"]: (getattr(c["type"], "length", None), c["nullable"])
                for c in inspector.get_columns(table)
            }
            for table in EXPECTED_COLUMNS
            if inspector.has_table(table)
        }

    actual = await _reflect(db_session, columns)
    assert set(actual) == set(EXPECTED_COLUMNS), "tables missing from the database"
    for table, spec in EXPECTED_COLUMNS.items():
        assert actual[table] == _parse(spec), table


async def test_named_keys_and_constraints(db_session: AsyncSession) -> None:
    def names(inspector: Any) -> dict[str, Any]:
        return {
            "pks": {t: inspector.get_pk_constraint(t) for t in EXPECTED_COMPOSITE_PKS},
            "checks": {
                t: {c["name"] for c in inspector.get_check_constraints(t)} for t in EXPECTED_CHECKS
            },
            "uniques": {
                t: {u["name"] for u in inspector.get_unique_constraints(t)}
                for t in ("role", "instance_expiration", "instance_thumbnail")
            },
            "users_fks": {
                fk["name"]: fk["referred_table"] for fk in inspector.get_foreign_keys("users")
            },
            "instance_fks": {
                fk["constrained_columns"][0] for fk in inspector.get_foreign_keys("instance")
            },
            "instance_indexes": {
                i["name"]: (i["column_names"], bool(i["unique"]))
                for i in inspector.get_indexes("instance")
            },
        }

    found = await _reflect(db_session, names)
    for table, (columns, name) in EXPECTED_COMPOSITE_PKS.items():
        assert found["pks"][table]["constrained_columns"] == columns, table
        assert found["pks"][table]["name"] == name, table
    assert found["checks"] == EXPECTED_CHECKS
    assert found["uniques"] == {
        "role": {"uk_role_name"},
        "instance_expiration": {"uk_instance_expiration_instance_id"},
        "instance_thumbnail": {"uk_instance_thumbnail_instance_id"},
    }
    assert found["users_fks"] == {"fk_employer_id": "employer"}
    # booking_token_id deliberately has no foreign key (spec §1.4)
    assert found["instance_fks"] == {"plan_id", "vdi_protocol"}
    assert found["instance_indexes"]["uk_instance_uid"] == (["uid"], True)


async def test_server_defaults_apply_to_rows_written_in_sql(db_session: AsyncSession) -> None:
    """An ETL writing plain SQL gets VISA's defaults (quota 2, layout, false flags, timestamps)."""
    await db_session.execute(text("INSERT INTO users (id, last_name) VALUES ('u1', 'Curie')"))
    await db_session.execute(
        text("INSERT INTO image (name, icon, compute_id) VALUES ('img', 'i.png', 'c-1')")
    )
    await db_session.execute(
        text(
            "INSERT INTO instance (uid, name, state, screen_width, screen_height)"
            " VALUES ('abc12345', 'box', 'BUILDING', 1280, 1024)"
        )
    )
    quota = await db_session.scalar(text("SELECT instance_quota FROM users WHERE id = 'u1'"))
    image = (await db_session.execute(text("SELECT deleted, visible FROM image"))).one()
    instance = (
        await db_session.execute(
            text("SELECT keyboard_layout, delete_requested, created_at FROM instance")
        )
    ).one()
    assert quota == 2
    assert (bool(image.deleted), bool(image.visible)) == (False, False)
    assert instance.keyboard_layout == "en-gb-qwerty"
    assert bool(instance.delete_requested) is False
    assert instance.created_at is not None


# ------------------------------------------------------------------------------------ round trip


async def _catalogue(session: AsyncSession) -> Plan:
    """A plan on an image exposing GUACD and JUPYTER, and a flavour."""
    guacd = Protocol(name="GUACD", port=4822)
    jupyter = Protocol(name="JUPYTER", port=8888)
    image = Image(
        name="Ubuntu",
        icon="ubuntu.png",
        compute_id="img-1",
        protocols=[guacd, jupyter],
        default_vdi_protocol=guacd,
    )
    plan = Plan(image=image, flavour=Flavour(name="small", cpu=1.5, memory=2048, compute_id="f-1"))
    session.add(plan)
    await session.flush()
    return plan


async def _users(session: AsyncSession, *ids: str) -> list[User]:
    users = [User(id=user_id, last_name=f"Last {user_id}") for user_id in ids]
    session.add_all(users)
    await session.flush()
    return users


def _instance(plan: Plan | None = None, **values: Any) -> Instance:
    fields: dict[str, Any] = {
        "uid": "a1b2c3d4",
        "name": "my instance",
        "state": InstanceState.BUILDING,
        "screen_width": 1920,
        "screen_height": 1080,
    }
    fields.update(values)
    return Instance(plan=plan, **fields)


async def test_instance_round_trip_with_selectinload(db_session: AsyncSession) -> None:
    plan = await _catalogue(db_session)
    owner, guest = await _users(db_session, "1001", "1002")
    instrument = Instrument(id=7, name="D11")
    proposal = Proposal(id=99, identifier="8-01-123", title="Small-angle")
    experiment = Experiment(
        id="exp-1",
        instrument=instrument,
        proposal=proposal,
        start_date=datetime(2024, 1, 1, tzinfo=UTC),
        end_date=datetime(2024, 1, 5, tzinfo=UTC),
    )
    instance = _instance(
        plan,
        vdi_protocol=plan.image.default_vdi_protocol if plan.image else None,
        members=[
            InstanceMember(user=owner, role=InstanceMemberRole.OWNER),
            InstanceMember(user=guest, role=InstanceMemberRole.GUEST),
        ],
        experiments=[experiment],
        attributes=[InstanceAttribute(name="homePath", value="/home/1001")],
    )
    db_session.add(instance)
    await db_session.flush()
    instance_id = instance.id
    db_session.expunge_all()

    loaded = (
        await db_session.execute(
            select(Instance)
            .where(Instance.id == instance_id)
            .options(
                selectinload(Instance.plan).selectinload(Plan.image).selectinload(Image.protocols),
                selectinload(Instance.plan).selectinload(Plan.flavour),
                selectinload(Instance.members).selectinload(InstanceMember.user),
                selectinload(Instance.experiments).selectinload(Experiment.proposal),
                selectinload(Instance.experiments).selectinload(Experiment.instrument),
                selectinload(Instance.attributes),
                selectinload(Instance.vdi_protocol),
            )
        )
    ).scalar_one()

    assert loaded is not instance
    assert loaded.state is InstanceState.BUILDING
    assert loaded.keyboard_layout == "en-gb-qwerty"
    assert loaded.delete_requested is False
    assert loaded.plan is not None and loaded.plan.image is not None
    assert loaded.plan.flavour is not None and loaded.plan.flavour.cpu == 1.5
    assert [p.name for p in loaded.plan.image.protocols] == ["GUACD", "JUPYTER"]
    assert loaded.vdi_protocol is not None and loaded.vdi_protocol.port == 4822
    assert [(m.user.id, m.role) for m in loaded.members] == [
        ("1001", InstanceMemberRole.OWNER),
        ("1002", InstanceMemberRole.GUEST),
    ]
    assert [(e.id, e.proposal.identifier, e.instrument.name) for e in loaded.experiments] == [
        ("exp-1", "8-01-123", "D11")
    ]
    assert [(a.name, a.value) for a in loaded.attributes] == [("homePath", "/home/1001")]
    assert loaded.created_at.tzinfo is not None and loaded.updated_at.tzinfo is not None


async def test_unloaded_relationships_raise_instead_of_lazy_loading(
    db_session: AsyncSession,
) -> None:
    db_session.add(_instance(await _catalogue(db_session)))
    await db_session.flush()
    db_session.expunge_all()
    loaded = (await db_session.execute(select(Instance))).scalar_one()
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        _ = loaded.members
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        _ = loaded.plan


async def test_user_roles_association_and_orphan_removal(db_session: AsyncSession) -> None:
    staff, guest = Role(name="STAFF"), Role(name="GUEST")
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    user_roles = [UserRole(role=staff), UserRole(role=guest, expires_at=expiry)]
    db_session.add(User(id="42", last_name="Meitner", user_roles=user_roles))
    await db_session.flush()
    db_session.expunge_all()

    def load() -> Any:
        return select(User).options(
            selectinload(User.user_roles).selectinload(UserRole.role), selectinload(User.roles)
        )

    loaded = (await db_session.execute(load())).scalar_one()
    assert sorted((ur.role.name, ur.expires_at) for ur in loaded.user_roles) == [
        ("GUEST", expiry),
        ("STAFF", None),
    ]
    assert [r.name for r in loaded.roles] == ["GUEST", "STAFF"]

    loaded.user_roles = [ur for ur in loaded.user_roles if ur.role.name == "STAFF"]
    await db_session.flush()
    assert await db_session.scalar(select(func.count()).select_from(UserRole)) == 1


async def test_timestamps_are_set_on_insert_and_update(db_session: AsyncSession) -> None:
    instance = _instance()
    db_session.add(instance)
    await db_session.flush()
    created, updated = instance.created_at, instance.updated_at
    assert created.tzinfo is UTC or created.utcoffset() == timedelta(0)
    instance.name = "renamed"
    await db_session.flush()
    assert instance.created_at == created
    assert instance.updated_at >= updated


# ------------------------------------------------------------------------------------ datetimes


async def test_aware_datetimes_come_back_as_the_same_instant_in_utc(
    db_session: AsyncSession,
) -> None:
    plus_two = timezone(timedelta(hours=2))
    db_session.add(_instance(termination_date=datetime(2024, 5, 1, 10, 0, tzinfo=plus_two)))
    await db_session.flush()
    db_session.expunge_all()

    loaded = (await db_session.execute(select(Instance))).scalar_one()
    assert loaded.termination_date == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert loaded.termination_date is not None
    assert loaded.termination_date.utcoffset() == timedelta(0)
    assert loaded.termination_date.hour == 8
    # comparisons in SQL use the instant too
    before = datetime(2024, 5, 1, 9, 30, tzinfo=plus_two)  # 07:30Z
    after = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    query = select(func.count()).select_from(Instance)
    assert await db_session.scalar(query.where(Instance.termination_date > before)) == 1
    assert await db_session.scalar(query.where(Instance.termination_date > after)) == 0


async def test_naive_datetime_is_rejected(db_session: AsyncSession) -> None:
    db_session.add(_instance(termination_date=datetime(2024, 5, 1, 10, 0)))
    with pytest.raises(StatementError) as raised:
        await db_session.flush()
    assert isinstance(raised.value.orig, ValueError)
    assert "naive" in str(raised.value.orig)


# ---------------------------------------------------------------------------------- integrity


async def test_foreign_key_violation_raises(db_session: AsyncSession) -> None:
    db_session.add(_instance())
    await db_session.flush()
    instance_id = (await db_session.execute(select(Instance.id))).scalar_one()
    member = {"instance_id": instance_id, "user_id": "nobody", "role": InstanceMemberRole.USER}
    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            await db_session.execute(insert(InstanceMember).values(**member))
    await _users(db_session, "nobody")  # the same row is fine once the user exists
    await db_session.execute(insert(InstanceMember).values(**member))


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            "INSERT INTO instance (uid, name, state, screen_width, screen_height)"
            " VALUES ('zz', 'x', :value, 1, 1)",
            "instance_state_check",
        ),
        (
            "INSERT INTO system_notification (message, level) VALUES ('hello', :value)",
            "system_notification_level_check",
        ),
    ],
    ids=["instance.state", "system_notification.level"],
)
async def test_enum_check_rejects_unknown_values(
    db_session: AsyncSession, sql: str, constraint: str
) -> None:
    with pytest.raises(IntegrityError) as raised:
        async with db_session.begin_nested():
            await db_session.execute(text(sql), {"value": "FLYING"})
    assert constraint in str(raised.value)
    valid = "ACTIVE" if "instance" in sql else "WARN"
    await db_session.execute(text(sql), {"value": valid})


async def test_user_role_is_unique_per_user_and_role(db_session: AsyncSession) -> None:
    await _users(db_session, "7")
    role = Role(name="STAFF")
    db_session.add(role)
    await db_session.flush()
    await db_session.execute(insert(UserRole).values(user_id="7", role_id=role.id))
    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            await db_session.execute(insert(UserRole).values(user_id="7", role_id=role.id))


async def test_role_name_is_unique(db_session: AsyncSession) -> None:
    await db_session.execute(insert(Role).values(name="ADMIN"))
    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            await db_session.execute(insert(Role).values(name="ADMIN", description="again"))


async def test_one_expiration_per_instance(db_session: AsyncSession) -> None:
    instance = _instance()
    db_session.add(instance)
    await db_session.flush()
    when = datetime(2024, 6, 1, tzinfo=UTC)
    await db_session.execute(
        insert(InstanceExpiration).values(instance_id=instance.id, expiration_date=when)
    )
    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            await db_session.execute(
                insert(InstanceExpiration).values(instance_id=instance.id, expiration_date=when)
            )


async def test_instance_uid_is_unique_among_non_deleted_instances(
    db_session: AsyncSession,
) -> None:
    db_session.add(_instance(uid="same0001", deleted_at=datetime(2024, 1, 1, tzinfo=UTC)))
    db_session.add(_instance(uid="same0001"))
    await db_session.flush()  # a deleted instance does not hold its uid
    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            db_session.add(_instance(uid="same0001"))
            await db_session.flush()


async def test_etl_supplied_ids_are_kept(db_session: AsyncSession) -> None:
    db_session.add_all(
        [
            Employer(id=4242, name="ILL", town="Grenoble", country_code="FR"),
            Instrument(id=17, name="IN5"),
            Proposal(id=31337, identifier="9-10-1234"),
        ]
    )
    await db_session.flush()
    db_session.add(User(id="etl-1", last_name="Bragg", affiliation_id=4242))
    await db_session.flush()
    db_session.expunge_all()
    user = (
        await db_session.execute(select(User).options(selectinload(User.affiliation)))
    ).scalar_one()
    assert user.affiliation is not None and user.affiliation.id == 4242
    assert await db_session.scalar(select(Instrument.id)) == 17
    assert await db_session.scalar(select(Proposal.id)) == 31337
