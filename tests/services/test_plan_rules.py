"""services.plans: the plan rules instance creation relies on, and maximum lifetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from visa_platform.config import load_settings
from visa_platform.db.models import (
    Experiment,
    Flavour,
    FlavourLimit,
    FlavourRoleLifetime,
    Image,
    Instrument,
    Plan,
    Proposal,
    Protocol,
    Role,
    User,
    UserRole,
    image_protocol,
    instrument_scientist,
)
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import FlavourLimitObjectType
from visa_platform.services import plans

DAY = datetime(2025, 1, 1, tzinfo=UTC)


async def seed(db_session: Any) -> dict[str, Any]:
    """Plans 'open', 'in5' (instrument 1), 'staff' (role STAFF), 'hidden' (invisible image)."""
    rdp, guacd = Protocol(name="RDP", port=3389), Protocol(name="GUACD", port=4822)
    staff, guest = Role(name="STAFF"), Role(name="GUEST")
    db_session.add_all(
        [
            rdp,
            guacd,
            staff,
            guest,
            Instrument(id=1, name="IN5"),
            Instrument(id=2, name="D22"),
            Proposal(id=10, identifier="P10"),
            User(id="u1", last_name="One"),
            User(id="u2", last_name="Two"),
        ]
    )
    await db_session.flush()
    found: dict[str, Any] = {"staff": staff, "guest": guest}
    for name, cpu, visible in (
        ("open", 2, True),
        ("in5", 1, True),
        ("staff", 3, True),
        ("hidden", 4, False),
    ):
        flavour = Flavour(name=name, cpu=cpu, memory=1024, compute_id=name)
        image = Image(
            name=name, icon="i", compute_id=name, visible=visible, default_vdi_protocol_id=guacd.id
        )
        db_session.add_all([flavour, image])
        await db_session.flush()
        await db_session.execute(
            insert(image_protocol),
            [
                {"image_id": image.id, "protocol_id": rdp.id},
                {"image_id": image.id, "protocol_id": guacd.id},
            ],
        )
        plan = Plan(image_id=image.id, flavour_id=flavour.id)
        db_session.add(plan)
        await db_session.flush()
        found[f"plan:{name}"] = plan.id
        found[f"flavour:{name}"] = flavour.id
    db_session.add_all(
        [
            FlavourLimit(
                flavour_id=found["flavour:in5"],
                object_type=FlavourLimitObjectType.INSTRUMENT,
                object_id=1,
            ),
            FlavourLimit(
                flavour_id=found["flavour:staff"],
                object_type=FlavourLimitObjectType.ROLE,
                object_id=staff.id,
            ),
            Experiment(id="x1", instrument_id=1, proposal_id=10, start_date=DAY, end_date=DAY),
            Experiment(id="x2", instrument_id=2, proposal_id=10, start_date=DAY, end_date=DAY),
        ]
    )
    await db_session.commit()
    return found


def ids(found: list[Plan], seeded: dict[str, Any]) -> list[str]:
    by_id = {v: k.removeprefix("plan:") for k, v in seeded.items() if k.startswith("plan:")}
    return [by_id[p.id] for p in found]


async def test_plans_for_user_and_experiments(db_session: Any) -> None:
    seeded = await seed(db_session)
    found = await plans.plans_for_user_and_experiments(db_session, "u1", ["x1"])
    assert ids(found, seeded) == ["in5", "open"]  # sorted by cpu
    plan = found[0]
    assert plan.image is not None and plan.flavour is not None  # loaded, no lazy load
    assert [p.name for p in plan.image.protocols] == ["RDP", "GUACD"]
    assert plan.image.default_vdi_protocol is not None
    assert plan.image.default_vdi_protocol.name == "GUACD"
    assert plan.flavour.devices == []
    assert ids(await plans.plans_for_user_and_experiments(db_session, "u1", ["x2"]), seeded) == [
        "open"
    ]
    assert ids(await plans.plans_for_user_and_experiments(db_session, "u1", []), seeded) == ["open"]


async def test_plans_for_user_and_all_instruments(db_session: Any) -> None:
    seeded = await seed(db_session)
    assert ids(await plans.plans_for_user_and_all_instruments(db_session, "u1"), seeded) == ["open"]
    db_session.add(UserRole(user_id="u1", role_id=seeded["staff"].id))
    await db_session.execute(insert(instrument_scientist), [{"instrument_id": 1, "user_id": "u1"}])
    await db_session.commit()
    assert ids(await plans.plans_for_user_and_all_instruments(db_session, "u1"), seeded) == [
        "in5",
        "open",
        "staff",
    ]
    assert ids(await plans.plans_for_user_and_all_instruments(db_session, "u2"), seeded) == ["open"]


async def test_expired_role_does_not_open_a_limited_flavour(db_session: Any) -> None:
    seeded = await seed(db_session)
    db_session.add(
        UserRole(
            user_id="u1", role_id=seeded["staff"].id, expires_at=utcnow() - timedelta(minutes=1)
        )
    )
    await db_session.commit()
    assert ids(await plans.plans_for_user_and_all_instruments(db_session, "u1"), seeded) == ["open"]


async def test_admin_plans_and_plan_by_id(db_session: Any) -> None:
    seeded = await seed(db_session)
    assert ids(await plans.admin_plans(db_session), seeded) == ["in5", "open", "staff", "hidden"]
    plan = await plans.plan_by_id(db_session, seeded["plan:hidden"])
    assert plan is not None and plan.image is not None and plan.flavour is not None
    assert [p.name for p in plan.image.protocols] == ["RDP", "GUACD"]
    assert await plans.plan_by_id(db_session, 424242) is None
    deleted = await db_session.get(Plan, seeded["plan:open"])
    deleted.deleted_at = utcnow()
    await db_session.commit()
    assert await plans.plan_by_id(db_session, seeded["plan:open"]) is None
    assert "open" not in ids(await plans.admin_plans(db_session), seeded)


async def test_max_lifetime_minutes(db_session: Any, tmp_path: Any) -> None:
    seeded = await seed(db_session)
    settings = load_settings(
        data_dir=tmp_path,
        instance_user_max_lifetime_duration_hours=10,
        instance_staff_max_lifetime_duration_hours=20,
    )
    flavour = seeded["flavour:open"]
    assert await plans.max_lifetime_minutes(db_session, flavour, [], settings) == 600
    assert await plans.max_lifetime_minutes(db_session, flavour, ["STAFF"], settings) == 1200
    assert await plans.max_lifetime_minutes(db_session, flavour, ["GUEST"], settings) == 600
    db_session.add_all(
        [
            FlavourRoleLifetime(flavour_id=flavour, role_id=None, duration_minutes=30),
            FlavourRoleLifetime(
                flavour_id=flavour, role_id=seeded["guest"].id, duration_minutes=45
            ),
            FlavourRoleLifetime(
                flavour_id=flavour, role_id=seeded["staff"].id, duration_minutes=40
            ),
        ]
    )
    await db_session.commit()
    assert await plans.max_lifetime_minutes(db_session, flavour, [], settings) == 30
    assert await plans.max_lifetime_minutes(db_session, flavour, ["STAFF"], settings) == 40
    assert await plans.max_lifetime_minutes(db_session, flavour, ["STAFF", "GUEST"], settings) == 45
    other = seeded["flavour:in5"]
    both = await plans.max_lifetimes_minutes(db_session, [flavour, other], ["STAFF"], settings)
    assert both == {flavour: 40, other: 1200}
    assert await plans.max_lifetimes_minutes(db_session, [], ["STAFF"], settings) == {}
