"""Catalogue mutations and live cloud views, against a fake OpenStack as the default cloud."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql_client import GraphQLClient
from graphql_world import settings_overrides
from sqlalchemy import select

from visa_platform.config import load_settings
from visa_platform.db.models import FlavourLimit, FlavourRoleLifetime, Plan, SecurityGroupFilter
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.fake_openstack import FakeOpenStack

UBUNTU = "8a8c7f1e-0000-4000-8000-000000000001"


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path, fake_openstack: FakeOpenStack) -> Any:
    return load_settings(
        **settings_overrides(
            test_database,
            tmp_path,
            **fake_openstack.default_cloud_settings(),
        )
    )


async def fresh_rows(session: Any, query: Any) -> list[Any]:
    await session.rollback()
    return list((await session.scalars(query)).all())


async def test_cloud_views(gql: GraphQLClient, admin: Any, world: Any) -> None:
    data = await gql.data(
        admin,
        """{ cloudImages(cloudId: -1) { id name size }
             cloudFlavours { id name cpus ram disk cloudClient { id name } }
             cloudSecurityGroups { name }
             cloudLimits { cloudClient { id } error
                           cloudLimit { maxTotalCores maxTotalInstances } } }""",
    )
    assert {"id": UBUNTU, "name": "visa-desktop-ubuntu-22.04", "size": 2048} in data["cloudImages"]
    small = next(f for f in data["cloudFlavours"] if f["id"] == "1")
    assert (small["cpus"], small["ram"], small["cloudClient"]["id"]) == (1, 2048, -1)
    assert {"name": "visa-rdp"} in data["cloudSecurityGroups"]
    (limits,) = data["cloudLimits"]
    assert limits["error"] is None
    assert limits["cloudLimit"]["maxTotalCores"] == 200


async def test_image_crud(gql: GraphQLClient, admin: Any, world: Any) -> None:
    protocols = (await gql.data(admin, "{ imageProtocols { id name } }"))["imageProtocols"]
    ids = {p["name"]: p["id"] for p in protocols}
    image_input = {
        "name": "Jammy",
        "version": "22.04",
        "computeId": UBUNTU,
        "visible": True,
        "protocolIds": [ids["GUACD"], ids["JUPYTER"]],
        "defaultVdiProtocolId": ids["GUACD"],
        "autoAcceptExtensionRequest": "STAFF",
        "icon": "ubuntu.png",
    }
    create = """mutation ($input: ImageInput!) { createImage(input: $input) {
        id name version computeId visible autoAcceptExtensionRequest cloudId
        protocols { name } defaultVdiProtocol { name } cloudImage { name } } }"""
    image = (await gql.data(admin, create, {"input": image_input}))["createImage"]
    assert image["protocols"] == [{"name": "GUACD"}, {"name": "JUPYTER"}]
    assert image["cloudImage"] == {"name": "visa-desktop-ubuntu-22.04"}
    assert (image["cloudId"], image["autoAcceptExtensionRequest"]) == (-1, "STAFF")
    _, body = await gql.post(admin, create, {"input": {**image_input, "computeId": "nope"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "no image 'nope'" in body["errors"][0]["message"]
    update = """mutation ($id: Int!, $input: ImageInput!) {
        updateImage(id: $id, input: $input) { id name visible protocols { name } } }"""
    changed = await gql.data(
        admin,
        update,
        {
            "id": image["id"],
            "input": {**image_input, "name": "Noble", "visible": False, "protocolIds": []},
        },
    )
    assert changed["updateImage"] == {
        "id": image["id"],
        "name": "Noble",
        "visible": False,
        "protocols": [],
    }
    await gql.data(
        admin, "mutation ($id: Int!) { deleteImage(id: $id) { id } }", {"id": image["id"]}
    )
    assert (await gql.data(admin, "{ countImages }"))["countImages"] == 1


async def test_flavour_crud(gql: GraphQLClient, admin: Any, world: Any, db_session: Any) -> None:
    flavour_input = {
        "name": "Large",
        "memory": 8192,
        "cpu": 4,
        "computeId": "2",
        "instrumentIds": [9],
        "roleIds": [world.group.id],
        "roleLifetimes": [
            {"roleId": None, "lifetimeMinutes": 120},
            {"roleId": world.group.id, "lifetimeMinutes": 240},
        ],
    }
    create = """mutation ($input: FlavourInput!) { createFlavour(input: $input) {
        id name memory cpu computeId cloudFlavour { name cpus }
        roleLifetimes { role { name } lifetimeMinutes } } }"""
    flavour = (await gql.data(admin, create, {"input": flavour_input}))["createFlavour"]
    assert flavour["cloudFlavour"] == {"name": "m1.large", "cpus": 4}
    assert {
        (r["role"] or {}).get("name"): r["lifetimeMinutes"] for r in flavour["roleLifetimes"]
    } == {
        None: 120,
        "beamline-team": 240,
    }
    limits = await fresh_rows(
        db_session, select(FlavourLimit).where(FlavourLimit.flavour_id == flavour["id"])
    )
    assert sorted((row.object_type.value, row.object_id) for row in limits) == sorted(
        [("INSTRUMENT", 9), ("ROLE", world.group.id)]
    )
    _, body = await gql.post(admin, create, {"input": {**flavour_input, "roleIds": [99999]}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    update = """mutation ($id: Int!, $input: FlavourInput!) {
        updateFlavour(id: $id, input: $input) { name roleLifetimes { lifetimeMinutes } } }"""
    changed = await gql.data(
        admin,
        update,
        {
            "id": flavour["id"],
            "input": {
                **flavour_input,
                "name": "L",
                "instrumentIds": [],
                "roleIds": [],
                "roleLifetimes": [],
            },
        },
    )
    assert changed["updateFlavour"] == {"name": "L", "roleLifetimes": []}
    assert (
        await fresh_rows(
            db_session, select(FlavourLimit).where(FlavourLimit.flavour_id == flavour["id"])
        )
        == []
    )
    assert (
        await fresh_rows(
            db_session,
            select(FlavourRoleLifetime).where(FlavourRoleLifetime.flavour_id == flavour["id"]),
        )
        == []
    )
    await gql.data(
        admin, "mutation ($id: Int!) { deleteFlavour(id: $id) { id } }", {"id": flavour["id"]}
    )
    assert (await gql.data(admin, "{ countFlavours }"))["countFlavours"] == 1


async def test_plan_crud(gql: GraphQLClient, admin: Any, world: Any, db_session: Any) -> None:
    create = """mutation ($input: PlanInput!) { createPlan(input: $input) {
        id preset image { name } flavour { name } } }"""
    plan = (
        await gql.data(
            admin,
            create,
            {"input": {"imageId": world.image.id, "flavourId": world.flavour.id, "preset": True}},
        )
    )["createPlan"]
    assert plan["image"] == {"name": "Ubuntu"} and plan["preset"] is True
    presets = await fresh_rows(db_session, select(Plan.id).where(Plan.preset.is_(True)))
    assert presets == [plan["id"]]  # the other plan lost its preset flag
    _, body = await gql.post(
        admin, create, {"input": {"imageId": 999, "flavourId": world.flavour.id, "preset": False}}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    await gql.data(
        admin,
        """mutation ($id: Int!, $input: PlanInput!) {
             updatePlan(id: $id, input: $input) { preset } }""",
        {
            "id": plan["id"],
            "input": {"imageId": world.image.id, "flavourId": world.flavour.id, "preset": False},
        },
    )
    await gql.data(admin, "mutation ($id: Int!) { deletePlan(id: $id) { id } }", {"id": plan["id"]})
    plans = (await gql.data(admin, "{ plans { id } }"))["plans"]
    assert [p["id"] for p in plans] == [world.plan.id]


async def test_security_groups_and_filters(
    gql: GraphQLClient, admin: Any, world: Any, db_session: Any
) -> None:
    create = """mutation ($name: String!) { createSecurityGroup(input: {name: $name}) {
        id name cloudId } }"""
    group = (await gql.data(admin, create, {"name": "visa-rdp"}))["createSecurityGroup"]
    again = (await gql.data(admin, create, {"name": "visa-rdp"}))["createSecurityGroup"]
    assert again["id"] == group["id"] and group["cloudId"] == -1
    _, body = await gql.post(admin, create, {"name": "not-in-the-cloud"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    add = """mutation ($input: SecurityGroupFilterInput!) {
        createSecurityGroupFilter(input: $input) {
        id objectType objectName securityGroup { name } } }"""
    rule = {"securityGroupId": group["id"], "objectId": world.flavour.id, "objectType": "FLAVOUR"}
    made = (await gql.data(admin, add, {"input": rule}))["createSecurityGroupFilter"]
    assert (made["objectName"], made["securityGroup"]["name"]) == ("Small", "visa-rdp")
    _, body = await gql.post(admin, add, {"input": rule})
    assert "already exists" in body["errors"][0]["message"]
    _, body = await gql.post(admin, add, {"input": {**rule, "objectType": "PROPOSAL"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    changed = await gql.data(
        admin,
        """mutation ($id: Int!, $input: SecurityGroupFilterInput!) {
             updateSecurityGroupFilter(id: $id, input: $input) { objectType objectName } }""",
        {"id": made["id"], "input": {**rule, "objectType": "INSTRUMENT", "objectId": 9}},
    )
    assert changed["updateSecurityGroupFilter"] == {"objectType": "INSTRUMENT", "objectName": "D22"}
    deleted = await gql.data(
        admin,
        "mutation ($id: Int!) { deleteSecurityGroup(id: $id) { name } }",
        {"id": group["id"]},
    )
    assert deleted == {"deleteSecurityGroup": {"name": "visa-rdp"}}
    left = await fresh_rows(db_session, select(SecurityGroupFilter.security_group_id))
    assert group["id"] not in left
    filters = (await gql.data(admin, "{ securityGroupFilters { id } }"))["securityGroupFilters"]
    assert len(filters) == 1  # the world's own filter
    renamed = await gql.data(
        admin,
        """mutation ($id: Int!) {
             updateSecurityGroup(id: $id, input: {name: "visa-ssh"}) { name } }""",
        {"id": 1},
    )
    assert renamed == {"updateSecurityGroup": {"name": "visa-ssh"}}
    removed = await gql.data(
        admin, f"mutation {{ deleteSecurityGroupFilter(id: {filters[0]['id']}) {{ id }} }}"
    )
    assert removed["deleteSecurityGroupFilter"]["id"] == filters[0]["id"]


CLOUD_FIELDS = """id name type serverNamePrefix visible
    openStackProviderConfiguration {
        applicationId applicationSecret identityEndpoint placementEndpoint }
    webProviderConfiguration { url authToken }"""


async def test_cloud_client_crud(
    gql: GraphQLClient, admin: Any, world: Any, fake_openstack: FakeOpenStack
) -> None:
    given = fake_openstack.cloud_client_input()
    create = "mutation ($input: CloudClientInput!) { createCloudClient(input: $input) { %s } }"
    created = (await gql.data(admin, create % CLOUD_FIELDS, {"input": given}))["createCloudClient"]
    config = created["openStackProviderConfiguration"]
    assert (config["applicationId"], config["applicationSecret"]) == ("visa-app-id", "********")
    assert created["webProviderConfiguration"] is None
    # the new client works at once in this process
    images = await gql.data(
        admin, "query ($c: Int!) { cloudImages(cloudId: $c) { id } }", {"c": created["id"]}
    )
    assert {"id": UBUNTU} in images["cloudImages"]
    # an unchanged (masked) secret keeps the stored one: the cloud still answers
    masked = {**given["openStackProviderConfiguration"], "applicationSecret": "********"}
    update = """mutation ($id: Int!, $input: CloudClientInput!) {
        updateCloudClient(id: $id, input: $input) { name visible } }"""
    changed = await gql.data(
        admin,
        update,
        {
            "id": created["id"],
            "input": {**given, "name": "Renamed", "openStackProviderConfiguration": masked},
        },
    )
    assert changed["updateCloudClient"] == {"name": "Renamed", "visible": True}
    flavours = await gql.data(
        admin, "query ($c: Int!) { cloudFlavours(cloudId: $c) { id } }", {"c": created["id"]}
    )
    assert {"id": "1"} in flavours["cloudFlavours"]
    _, body = await gql.post(
        admin, create % "id", {"input": {**given, "openStackProviderConfiguration": None}}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    deleted = await gql.data(
        admin, "mutation ($id: Int!) { deleteCloudClient(id: $id) }", {"id": created["id"]}
    )
    assert deleted == {"deleteCloudClient": True}
    listed = (await gql.data(admin, "{ cloudClients { id } }"))["cloudClients"]
    assert listed == [{"id": -1}]
    _, body = await gql.post(
        admin, "query ($c: Int!) { cloudImages(cloudId: $c) { id } }", {"c": created["id"]}
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
