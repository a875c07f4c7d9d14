"""/api/plans: the plans a caller may use (visibility, flavour limits, lifetimes), and one plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, select

from visa_platform.db.models import (
    CloudProviderConfiguration,
    DevicePool,
    Experiment,
    Flavour,
    FlavourDevice,
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
from visa_platform.domain.enums import DevicePoolType, FlavourLimitObjectType
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer

USER_MINUTES = 336 * 60
STAFF_MINUTES = 1440 * 60
INSTRUMENT = FlavourLimitObjectType.INSTRUMENT
ROLE = FlavourLimitObjectType.ROLE


class Catalogue:
    """Builds images, flavours and plans; ``plans[name]`` is the id of the plan called ``name``."""

    def __init__(self, db_session: Any) -> None:
        self.db = db_session
        self.plans: dict[str, int] = {}
        self.flavours: dict[str, int] = {}
        self.protocols: dict[str, Protocol] = {}

    async def start(self) -> Catalogue:
        found = (await self.db.scalars(select(Protocol))).all()
        self.protocols = {p.name: p for p in found}
        return self

    async def plan(
        self,
        name: str,
        *,
        cpu: float = 1,
        memory: int = 1024,
        visible: bool = True,
        cloud: int | None = None,
        deleted: str | None = None,
        flavour_id: int | None = None,
    ) -> int:
        if flavour_id is None:
            flavour = Flavour(
                name=f"f-{name}",
                cpu=cpu,
                memory=memory,
                compute_id=f"cf-{name}",
                cloud_provider_configuration_id=cloud,
                deleted=deleted == "flavour",
            )
            self.db.add(flavour)
            await self.db.flush()
            flavour_id = flavour.id
            self.flavours[name] = flavour.id
        image = Image(
            name=f"img-{name}",
            version="1.0",
            description=f"Image {name}",
            icon="i.png",
            compute_id=f"ci-{name}",
            visible=visible,
            deleted=deleted == "image",
            default_vdi_protocol_id=self.protocols["GUACD"].id,
            secondary_vdi_protocol_id=self.protocols["RDP"].id,
            cloud_provider_configuration_id=cloud,
        )
        self.db.add(image)
        await self.db.flush()
        await self.db.execute(
            insert(image_protocol),
            [{"image_id": image.id, "protocol_id": self.protocols[p].id} for p in ("RDP", "GUACD")],
        )
        plan = Plan(
            image_id=image.id,
            flavour_id=flavour_id,
            deleted_at=utcnow() if deleted == "plan" else None,
        )
        self.db.add(plan)
        await self.db.flush()
        self.plans[name] = plan.id
        return plan.id

    def limit(self, name: str, kind: FlavourLimitObjectType, object_id: int) -> None:
        self.db.add(
            FlavourLimit(flavour_id=self.flavours[name], object_type=kind, object_id=object_id)
        )


async def roles_by_name(db_session: Any) -> dict[str, Role]:
    return {r.name: r for r in (await db_session.scalars(select(Role))).all()}


async def get(client: Any, token: str, path: str = "") -> tuple[int, Any]:
    response = await client.get(f"/api/plans{path}", headers=bearer(token))
    return response.status_code, await response.get_json()


def names(body: Any, catalogue: Catalogue) -> list[str]:
    by_id = {v: k for k, v in catalogue.plans.items()}
    return [by_id[p["id"]] for p in body["data"]]


async def seed_visibility(db_session: Any) -> Catalogue:
    """Plans that differ only in what hides them."""
    catalogue = await Catalogue(db_session).start()
    shown = CloudProviderConfiguration(
        type="openstack", name="shown", server_name_prefix="s", visible=True
    )
    hidden = CloudProviderConfiguration(
        type="openstack", name="hidden", server_name_prefix="h", visible=False
    )
    gone = CloudProviderConfiguration(
        type="openstack", name="gone", server_name_prefix="g", visible=True, deleted_at=utcnow()
    )
    db_session.add_all([shown, hidden, gone])
    await db_session.flush()
    await catalogue.plan("big", cpu=4, memory=8192)
    await catalogue.plan("small", cpu=1, memory=2048)
    await catalogue.plan("small-less-ram", cpu=1, memory=1024)
    await catalogue.plan("other-cloud", cpu=2, cloud=shown.id)
    await catalogue.plan("invisible-image", cpu=2, memory=2000, visible=False)
    await catalogue.plan("invisible-cloud", cpu=2, memory=3000, cloud=hidden.id)
    await catalogue.plan("deleted-cloud", cpu=2, cloud=gone.id)
    await catalogue.plan("deleted-plan", deleted="plan")
    await catalogue.plan("deleted-image", deleted="image")
    await catalogue.plan("deleted-flavour", deleted="flavour")
    await db_session.commit()
    return catalogue


async def test_plan_dto_has_every_key(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    catalogue = await Catalogue(db_session).start()
    plan_id = await catalogue.plan("gpu", cpu=2.5, memory=4096)
    pool = DevicePool(
        compute_identifier="a100",
        name="A100",
        description="NVIDIA A100",
        device_type=DevicePoolType.PCI_PASSTHROUGH,
    )
    db_session.add(pool)
    await db_session.flush()
    db_session.add(
        FlavourDevice(flavour_id=catalogue.flavours["gpu"], device_pool_id=pool.id, unit_count=2)
    )
    plan = await db_session.get(Plan, plan_id)
    plan.preset = True
    await db_session.commit()
    status, body = await get(client, accounts.add("1001"))
    assert status == 200
    guacd, rdp = catalogue.protocols["GUACD"], catalogue.protocols["RDP"]
    guacd_dto: dict[str, Any] = {"id": guacd.id, "name": "GUACD", "port": 4822}
    rdp_dto: dict[str, Any] = {"id": rdp.id, "name": "RDP", "port": 3389}
    assert body == {
        "data": [
            {
                "id": plan_id,
                "image": {
                    "id": plan.image_id,
                    "name": "img-gpu",
                    "version": "1.0",
                    "description": "Image gpu",
                    "icon": "i.png",
                    "protocols": [rdp_dto, guacd_dto]
                    if rdp.id < guacd.id
                    else [guacd_dto, rdp_dto],
                    "defaultVdiProtocol": guacd_dto,
                    "secondaryVdiProtocol": guacd_dto,  # VISA's quirk: the default protocol
                },
                "flavour": {
                    "id": catalogue.flavours["gpu"],
                    "name": "f-gpu",
                    "memory": 4096,
                    "cpu": 2.5,
                    "devices": [
                        {
                            "devicePool": {
                                "id": pool.id,
                                "name": "A100",
                                "description": "NVIDIA A100",
                            },
                            "unitCount": 2,
                        }
                    ],
                    "available": True,
                    "availableAt": None,
                    "lifetimeMinutes": USER_MINUTES,
                },
                "preset": True,
            }
        ]
    }
    assert list(body["data"][0]["image"]["protocols"][0]) == ["id", "name", "port"]
    assert await get(client, accounts.add("1002"), f"/{plan_id}") == (
        200,
        {"data": body["data"][0]},
    )


async def test_users_see_usable_visible_plans_by_cpu_then_memory(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    catalogue = await seed_visibility(db_session)
    status, body = await get(client, accounts.add("1001"))
    assert status == 200
    assert names(body, catalogue) == ["small-less-ram", "small", "other-cloud", "big"]


async def test_admins_see_invisible_plans_but_not_deleted_ones(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    catalogue = await seed_visibility(db_session)
    status, body = await get(client, accounts.add("1001", roles=["ADMIN"]))
    assert status == 200
    assert names(body, catalogue) == [
        "small-less-ram",
        "small",
        "other-cloud",
        "invisible-image",
        "invisible-cloud",
        "big",
    ]
    # flavour limits do not apply to administrators either
    catalogue.limit("big", ROLE, 999)
    await db_session.commit()
    _, body = await get(client, accounts.add("1002", roles=["ADMIN"]))
    assert "big" in names(body, catalogue)


async def test_plan_by_id(client: Any, db_session: Any, accounts: StaticAccounts) -> None:
    catalogue = await seed_visibility(db_session)
    user, admin = accounts.add("1001"), accounts.add("1002", roles=["ADMIN"])
    plans = catalogue.plans
    assert (await get(client, user, f"/{plans['small']}"))[0] == 200
    assert (await get(client, user, f"/{plans['invisible-image']}"))[0] == 404
    assert (await get(client, admin, f"/{plans['invisible-image']}"))[0] == 200
    for name in ("deleted-plan", "deleted-image", "deleted-flavour", "deleted-cloud"):
        assert (await get(client, admin, f"/{plans[name]}"))[0] == 404, name
    for bad in ("abc", "-1", "1.0", "99999", "99999999999999999999999"):
        status, body = await get(client, user, f"/{bad}")
        assert status == 404, bad
        assert body["data"] is None


async def test_flavour_limits(client: Any, db_session: Any, accounts: StaticAccounts) -> None:
    """Instrument limits open to scientists and experiments; role limits to holders."""
    roles = await roles_by_name(db_session)
    now = utcnow()
    catalogue = await Catalogue(db_session).start()
    for name in ("open", "in5", "d22", "staff", "group", "gone-group", "in5-or-staff"):
        await catalogue.plan(name)
    group = Role(name="beamline-9", group_created_at=now)
    gone = Role(name="old-group", group_created_at=now, group_deleted_at=now)
    db_session.add_all(
        [
            group,
            gone,
            Instrument(id=1, name="IN5"),
            Instrument(id=2, name="D22"),
            Proposal(id=10, identifier="P10"),
        ]
    )
    await db_session.flush()
    catalogue.limit("in5", INSTRUMENT, 1)
    catalogue.limit("d22", INSTRUMENT, 2)
    catalogue.limit("staff", ROLE, roles["STAFF"].id)
    catalogue.limit("group", ROLE, group.id)
    catalogue.limit("gone-group", ROLE, gone.id)
    catalogue.limit("in5-or-staff", INSTRUMENT, 1)
    catalogue.limit("in5-or-staff", ROLE, roles["STAFF"].id)
    day = datetime(2025, 1, 1, tzinfo=UTC)
    db_session.add_all(
        [
            User(id="1001", last_name="Plain", activated_at=now),
            User(id="1002", last_name="Scientist", activated_at=now),
            User(id="1003", last_name="Grouped", activated_at=now),
            User(id="1004", last_name="Expired", activated_at=now),
            Experiment(id="x-in5", instrument_id=1, proposal_id=10, start_date=day, end_date=day),
            Experiment(id="x-d22", instrument_id=2, proposal_id=10, start_date=day, end_date=day),
            Experiment(
                id="x-undated", instrument_id=2, proposal_id=10, start_date=None, end_date=day
            ),
        ]
    )
    await db_session.flush()
    await db_session.execute(
        insert(instrument_scientist), [{"instrument_id": 2, "user_id": "1002"}]
    )
    db_session.add_all(
        [
            UserRole(user_id="1003", role_id=group.id),
            UserRole(user_id="1003", role_id=gone.id),
            UserRole(user_id="1004", role_id=roles["STAFF"].id, expires_at=now - timedelta(days=1)),
        ]
    )
    await db_session.commit()
    plain, scientist = accounts.add("1001"), accounts.add("1002")
    staff, grouped = accounts.add("1005", roles=["STAFF"]), accounts.add("1003")
    expired = accounts.add("1004")

    async def visible(token: str, query: str = "") -> list[str]:
        status, body = await get(client, token, query)
        assert status == 200
        return sorted(names(body, catalogue))

    assert await visible(plain) == ["open"]
    assert await visible(plain, "?experiments=x-in5") == ["in5", "in5-or-staff", "open"]
    assert await visible(plain, "?experiments=x-in5,x-d22") == [
        "d22",
        "in5",
        "in5-or-staff",
        "open",
    ]
    assert await visible(plain, "?experiments=unknown,x-undated") == ["open"]  # ignored
    assert await visible(plain, "?experiments=") == ["open"]
    assert await visible(scientist) == ["d22", "open"]
    assert await visible(scientist, "?experiments=x-in5") == ["d22", "in5", "in5-or-staff", "open"]
    assert await visible(staff) == ["in5-or-staff", "open", "staff"]
    assert await visible(grouped) == ["group", "open"]
    assert await visible(expired) == ["open"]  # fix over VISA: an expired role opens nothing
    # ?flavour=: that flavour's visible plans, whoever asks and whatever its limits
    flavour = catalogue.flavours["staff"]
    assert await visible(plain, f"?flavour={flavour}") == ["staff"]
    assert await visible(accounts.add("1006", roles=["ADMIN"]), f"?flavour={flavour}") == ["staff"]
    assert await visible(plain, "?flavour=424242") == []
    assert (await get(client, plain, "?flavour=abc"))[0] == 400


async def test_lifetime_minutes_follow_roles_and_flavour_rows(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    roles = await roles_by_name(db_session)
    catalogue = await Catalogue(db_session).start()
    for name in ("default", "rows", "short-staff", "guest"):
        await catalogue.plan(name)
    flavours = catalogue.flavours
    db_session.add_all(
        [
            FlavourRoleLifetime(flavour_id=flavours["rows"], role_id=None, duration_minutes=60),
            FlavourRoleLifetime(
                flavour_id=flavours["rows"], role_id=roles["IT_SUPPORT"].id, duration_minutes=600
            ),
            FlavourRoleLifetime(
                flavour_id=flavours["short-staff"], role_id=roles["STAFF"].id, duration_minutes=30
            ),
            FlavourRoleLifetime(
                flavour_id=flavours["guest"], role_id=roles["GUEST"].id, duration_minutes=999_999
            ),
        ]
    )
    await db_session.commit()

    async def minutes(token: str) -> dict[str, int]:
        _, body = await get(client, token)
        return dict(
            zip(
                names(body, catalogue),
                [p["flavour"]["lifetimeMinutes"] for p in body["data"]],
                strict=True,
            )
        )

    assert await minutes(accounts.add("1001")) == {
        "default": USER_MINUTES,
        "rows": 60,
        "short-staff": USER_MINUTES,
        "guest": USER_MINUTES,
    }
    assert await minutes(accounts.add("1002", roles=["STAFF"])) == {
        "default": STAFF_MINUTES,
        "rows": STAFF_MINUTES,
        "short-staff": USER_MINUTES,
        "guest": STAFF_MINUTES,
    }
    assert (await minutes(accounts.add("1003", roles=["IT_SUPPORT"])))["rows"] == 600
    assert (await minutes(accounts.add("1004", roles=["GUEST"])))["guest"] == 999_999


async def test_anonymous_is_401(client: Any) -> None:
    assert (await client.get("/api/plans")).status_code == 401
    assert (await client.get("/api/plans/1")).status_code == 401


async def test_statements_do_not_grow_with_plans(
    app: Any, client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    """5 or 50 plans, each with its own image, flavour, devices, limits and lifetimes."""
    roles = await roles_by_name(db_session)
    catalogue = await Catalogue(db_session).start()
    db_session.add_all([Instrument(id=1, name="IN5"), Proposal(id=10, identifier="P10")])
    day = datetime(2025, 1, 1, tzinfo=UTC)
    db_session.add(
        Experiment(id="x1", instrument_id=1, proposal_id=10, start_date=day, end_date=day)
    )
    await db_session.commit()
    token = accounts.add("1001", roles=["STAFF"])
    await get(client, token)  # first login writes the user; not measured

    async def add(start: int, stop: int) -> None:
        for i in range(start, stop):
            name = f"p{i}"
            await catalogue.plan(name, cpu=1 + i % 3, memory=1024 + i)
            pool = DevicePool(compute_identifier=f"d{i}", name=f"D{i}", description="gpu")
            db_session.add(pool)
            await db_session.flush()
            db_session.add(
                FlavourDevice(
                    flavour_id=catalogue.flavours[name], device_pool_id=pool.id, unit_count=1
                )
            )
            catalogue.limit(name, INSTRUMENT if i % 2 else ROLE, 1 if i % 2 else roles["STAFF"].id)
            db_session.add(
                FlavourRoleLifetime(
                    flavour_id=catalogue.flavours[name], role_id=None, duration_minutes=100 + i
                )
            )
        await db_session.commit()

    engine = runtime(app.app).engine
    assert engine is not None
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def measure(query: str) -> tuple[int, int]:
        statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            status, body = await get(client, token, query)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert status == 200
        return len(statements), len(body["data"])

    await add(0, 5)
    few = [await measure(q) for q in ("", "?experiments=x1")]
    await add(5, 50)
    many = [await measure(q) for q in ("", "?experiments=x1")]
    assert [n for n, _ in few] == [n for n, _ in many]
    assert all(n > 0 for n, _ in few)  # the listener saw the queries
    assert [rows for _, rows in few] == [3, 5]  # STAFF opens the ROLE-limited flavours only
    assert [rows for _, rows in many] == [25, 50]
