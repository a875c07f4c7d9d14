"""The admin UI's operations (spec/api.md §6.5): each parses and answers the expected shape."""

from __future__ import annotations

from typing import Any

from graphql_client import GraphQLClient

INSTANCE_FIELDS = """
  id uid name ipAddress comments state createdAt lastSeenAt lastInteractionAt terminationDate
  username keyboardLayout cloudId computeId
  vdiProtocol { id name port }
  plan { id preset image { id name version } flavour { id name cpu memory } }
  owner { id fullName email affiliation { id name } }
  members { id role createdAt user { id fullName } }
  experiments { id title startDate endDate instrument { id name } proposal { id identifier title } }
  attributes { id name value }
  activeSessions { id sessionId role active duration user { id } instanceSession { id protocol } }
  sessions { id createdAt updatedAt active duration }
  cloudClient { id name type }
  cloudInstance { id name address state fault { message } securityGroups }
  deviceAllocations { unitCount devicePool { id name } }
  bookingToken { id bookingRequest { id name } }
"""

DASHBOARD = """
query Dashboard {
  countActivatedUsers countActiveSessions countImages countFlavours countInstances
  countSessions countJupyterSessions hypervisorsAvailable
  countInstancesByImages { id name version total }
  countInstancesByCloudClients { id name total }
  countInstancesByFlavours { id name total }
  countInstancesForStates(states: [ACTIVE, STOPPED, ERROR]) { state count }
  recentInstances(pagination: {limit: 15, offset: 0}) {
    pageInfo { count } data { id name state owner { fullName } plan { image { name } } }
  }
  recentActiveUsers(pagination: {limit: 15, offset: 0}) {
    pageInfo { count } data { id fullName lastSeenAt affiliation { name } }
  }
  cloudLimits { cloudClient { id name } cloudLimit { maxTotalCores totalCoresUsed } error }
}
"""


async def test_dashboard(gql: GraphQLClient, admin: Any, world: Any) -> None:
    data = await gql.data(admin, DASHBOARD)
    assert data["countActivatedUsers"] == 3  # Ada, Alan and the admin who just logged in
    assert data["countInstances"] == 3
    assert (data["countSessions"], data["countActiveSessions"]) == (1, 1)
    assert data["countJupyterSessions"] == 1
    assert (data["countImages"], data["countFlavours"]) == (1, 1)
    assert data["hypervisorsAvailable"] is False
    assert data["countInstancesByImages"] == [
        {"id": world.image.id, "name": "Ubuntu", "version": "24.04", "total": 3}
    ]
    assert data["countInstancesByFlavours"] == [
        {"id": world.flavour.id, "name": "Small", "total": 3}
    ]
    assert [c["id"] for c in data["countInstancesByCloudClients"]] == [-1]
    assert data["countInstancesForStates"] == [
        {"state": "ACTIVE", "count": 1},
        {"state": "STOPPED", "count": 2},
        {"state": "ERROR", "count": 0},
    ]
    recent = data["recentInstances"]
    assert recent["pageInfo"]["count"] == 3
    assert [i["name"] for i in recent["data"]] == ["desktop 2", "desktop 1", "desktop 0"]
    assert recent["data"][0]["owner"]["fullName"] == "Ada Lovelace"
    users = data["recentActiveUsers"]["data"]
    assert [u["id"] for u in users][:3] == ["9001", "1001", "1002"]
    assert users[1]["affiliation"] == {"name": "ILL"}
    assert isinstance(data["cloudLimits"], list)


async def test_instances_page(gql: GraphQLClient, admin: Any, world: Any) -> None:
    query = f"""
    query Instances($filter: InstanceFilterInput, $orderBy: OrderBy, $pagination: Pagination!) {{
      instances(filter: $filter, orderBy: $orderBy, pagination: $pagination) {{
        pageInfo {{
          currentPage totalPages count offset limit hasNextPage hasPrevPage nextPage prevPage
        }}
        data {{ {INSTANCE_FIELDS} }}
      }}
      countInstances(filter: $filter)
    }}"""
    variables = {
        "filter": {"nameLike": "DESKTOP", "ownerId": "1001", "instrumentId": 9},
        "orderBy": {"name": "name", "ascending": False},
        "pagination": {"offset": 0, "limit": 2},
    }
    data = await gql.data(admin, query, variables)
    page = data["instances"]
    assert page["pageInfo"] == {
        "currentPage": 1,
        "totalPages": 2,
        "count": 3,
        "offset": 0,
        "limit": 2,
        "hasNextPage": True,
        "hasPrevPage": False,
        "nextPage": 2,
        "prevPage": None,
    }
    assert data["countInstances"] == 3
    assert [i["name"] for i in page["data"]] == ["desktop 2", "desktop 1"]
    variables["pagination"] = {"offset": 2, "limit": 2}
    page = (await gql.data(admin, query, variables))["instances"]
    first = page["data"][0]
    assert first["name"] == "desktop 0"
    assert first["state"] == "ACTIVE"
    assert first["createdAt"].endswith("Z")
    assert first["cloudId"] == -1
    assert first["vdiProtocol"]["name"] == "GUACD"
    assert first["plan"]["image"]["name"] == "Ubuntu"
    assert first["owner"] == {
        "id": "1001",
        "fullName": "Ada Lovelace",
        "email": "ada@example.org",
        "affiliation": {"id": 7, "name": "ILL"},
    }
    assert [m["role"] for m in first["members"]] == ["OWNER", "USER"]
    assert first["experiments"][0]["proposal"]["identifier"] == "9-01-123"
    assert first["attributes"] == [
        {"id": first["attributes"][0]["id"], "name": "homePath", "value": "/home/ada"}
    ]
    assert first["activeSessions"][0]["sessionId"] == "client-1"
    assert first["activeSessions"][0]["instanceSession"]["protocol"] == "GUACAMOLE"
    assert first["cloudClient"]["id"] == -1
    assert first["deviceAllocations"] == []
    assert first["bookingToken"] is None
    assert page["pageInfo"]["hasPrevPage"] is True and page["pageInfo"]["prevPage"] == 1


async def test_instance_filters(gql: GraphQLClient, admin: Any, world: Any) -> None:
    query = "query ($f: InstanceFilterInput) { countInstances(filter: $f) }"
    cases = [
        ({"state": "ACTIVE"}, 1),
        ({"ids": [world.instances[0].id, world.instances[1].id]}, 2),
        ({"imageId": world.image.id}, 3),
        ({"flavourId": world.flavour.id + 1000}, 0),
        ({"ownerId": "1002"}, 0),
        ({"nameLike": "top 1"}, 1),
        ({"devicePoolId": 1}, 0),
    ]
    for given, expected in cases:
        assert (await gql.data(admin, query, {"f": given}))["countInstances"] == expected, given


async def test_instance_and_state_introspection(gql: GraphQLClient, admin: Any, world: Any) -> None:
    query = f"query ($id: Int!) {{ instance(id: $id) {{ {INSTANCE_FIELDS} }} }}"
    data = await gql.data(admin, query, {"id": world.instances[0].id})
    assert data["instance"]["uid"] == "uid00000"
    assert data["instance"]["cloudInstance"] is None  # the default cloud has no such server
    states = await gql.data(admin, '{ __type(name: "InstanceState") { enumValues { name } } }')
    names = [v["name"] for v in states["__type"]["enumValues"]]
    assert names[:3] == ["ACTIVE", "PARTIALLY_ACTIVE", "ACTIVE_MIGRATING"] and len(names) == 14


async def test_instance_page_limits(gql: GraphQLClient, admin: Any, world: Any) -> None:
    status, body = await gql.post(
        admin, "{ instances(pagination: {offset: 0, limit: 51}) { data { id } } }"
    )
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["message"] == "pagination limit must be 0..50"
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    status, body = await gql.post(
        admin, "{ users(pagination: {offset: 0, limit: 201}) { data { id } } }"
    )
    assert body["errors"][0]["message"] == "pagination limit must be 0..200"


USERS = """
query Users($filter: UserFilterInput, $orderBy: OrderBy, $pagination: Pagination!) {
  users(filter: $filter, orderBy: $orderBy, pagination: $pagination) {
    pageInfo { count currentPage totalPages }
    data {
      id firstName lastName fullName email instanceQuota lastSeenAt activatedAt
      affiliation { id name town countryCode }
      activeUserRoles { role { id name } expiresAt }
      groups { id name }
    }
  }
}
"""


async def test_users_page_and_user(gql: GraphQLClient, admin: Any, world: Any) -> None:
    data = await gql.data(
        admin,
        USERS,
        {"orderBy": {"name": "lastName"}, "pagination": {"offset": 0, "limit": 10}},
    )
    rows = data["users"]["data"]
    assert [u["lastName"] for u in rows] == ["Admin", "Hopper", "Lovelace", "Turing"]
    ada = rows[2]
    assert [r["role"]["name"] for r in ada["activeUserRoles"]] == ["STAFF"]
    assert [g["name"] for g in ada["groups"]] == ["beamline-team"]
    assert ada["affiliation"]["countryCode"] == "FR"
    staff_only = await gql.data(
        admin, USERS, {"filter": {"role": "STAFF"}, "pagination": {"offset": 0}}
    )
    assert [u["id"] for u in staff_only["users"]["data"]] == ["1001"]
    inactive = await gql.data(
        admin, USERS, {"filter": {"activated": False}, "pagination": {"offset": 0}}
    )
    assert [u["id"] for u in inactive["users"]["data"]] == ["1003"]

    user = await gql.data(
        admin,
        """query ($id: String!) { user(id: $id) {
             id fullName instances { id name state plan { image { name } } }
             activeUserRoles { role { id name } expiresAt } groups { id name }
             experiments { id proposal { identifier } } } }""",
        {"id": "1001"},
    )
    assert [i["name"] for i in user["user"]["instances"]] == ["desktop 2", "desktop 1", "desktop 0"]
    assert user["user"]["experiments"][0]["proposal"]["identifier"] == "9-01-123"

    found = await gql.data(
        admin,
        """{ searchForUserByLastName(lastName: "tu", onlyActivatedUsers: true,
             pagination: {offset: 0, limit: 10}) { pageInfo { count } data { id fullName } } }""",
    )
    assert found["searchForUserByLastName"]["data"] == [{"id": "1002", "fullName": "Alan Turing"}]


async def test_roles_groups_and_experiments(gql: GraphQLClient, admin: Any, world: Any) -> None:
    data = await gql.data(
        admin,
        """{ rolesAndGroups { id name description groupCreatedAt }
             groups { id name }
             experiments(filter: {userId: "1001", proposalLike: "9-01"},
                         pagination: {offset: 0, limit: 5}) {
               pageInfo { count }
               data { id title startDate instrument { name } proposal { identifier } } }
             countExperiments(filter: {proposalLike: "nothing"}) }""",
    )
    names = [r["name"] for r in data["rolesAndGroups"]]
    assert "ADMIN" in names and "beamline-team" in names
    assert [g["name"] for g in data["groups"]] == ["beamline-team"]
    assert data["experiments"]["pageInfo"]["count"] == 1
    assert data["experiments"]["data"][0]["instrument"]["name"] == "D22"
    assert data["countExperiments"] == 0


async def test_catalogue_pages(gql: GraphQLClient, admin: Any, world: Any) -> None:
    data = await gql.data(
        admin,
        """{
          images { id name version icon computeId visible bootCommand autologin cloudId
                   autoAcceptExtensionRequest protocols { id name port }
                   defaultVdiProtocol { name } secondaryVdiProtocol { name }
                   cloudClient { id name } cloudImage { id name size } }
          imageProtocols { id name port }
          cloudImages(cloudId: -1) { id name size }
          flavours { id name memory cpu computeId cloudId cloudClient { id }
                     cloudFlavour { id name cpus ram disk deviceAllocations { unitCount } }
                     devices { unitCount devicePool { id cloudDevice { identifier } } }
                     roleLifetimes { id role { name } lifetimeMinutes } }
          flavourLimits { id objectId objectType flavour { id name } }
          cloudFlavours(cloudId: -1) { id name }
          plans { id preset image { id name } flavour { id name } }
          instruments { id name }
        }""",
    )
    image = data["images"][0]
    assert image["autoAcceptExtensionRequest"] == "NONE"
    assert image["protocols"] == [
        {"id": image["protocols"][0]["id"], "name": "GUACD", "port": 4822}
    ]
    assert image["cloudId"] == -1 and image["cloudClient"]["id"] == -1
    assert {p["name"] for p in data["imageProtocols"]} >= {"GUACD", "WEBX", "RDP"}
    flavour = data["flavours"][0]
    assert flavour["roleLifetimes"][0]["role"] == {"name": "STAFF"}
    assert flavour["roleLifetimes"][0]["lifetimeMinutes"] == 600
    assert data["flavourLimits"][0]["objectType"] == "INSTRUMENT"
    assert data["plans"][0]["image"]["name"] == "Ubuntu"
    assert data["instruments"] == [{"id": 9, "name": "D22"}]
    assert isinstance(data["cloudImages"], list) and isinstance(data["cloudFlavours"], list)


async def test_clouds_security_and_notifications(
    gql: GraphQLClient, admin: Any, world: Any
) -> None:
    data = await gql.data(
        admin,
        """{
          cloudClients { id name type serverNamePrefix visible
                         openStackProviderConfiguration { applicationId }
                         webProviderConfiguration { url } }
          securityGroups { id name cloudId cloudClient { id } }
          securityGroupsByName(name: "d22-data") { id }
          cloudSecurityGroups(cloudId: -1) { name }
          securityGroupFilters { id objectId objectType objectName securityGroup { name } }
          systemNotifications { id message level type activatedAt }
          applicationCredentials { id name applicationId lastUsedAt }
          instanceExtensionRequests { id comments createdAt state
                                      instance { id name owner { fullName } } }
          sessions(pagination: {offset: 0}) { pageInfo { count }
            data { id sessionId role active duration user { fullName }
                   instanceSession { id current instanceId protocol instance { name } } } }
          jupyterSessions(pagination: {offset: 0, limit: 10}) { pageInfo { count }
            data { id kernelId sessionId active duration instance { name } user { id } } }
        }""",
    )
    assert data["cloudClients"][0]["id"] == -1
    assert data["securityGroups"][0]["name"] == "d22-data"
    assert len(data["securityGroupsByName"]) == 1
    assert data["securityGroupFilters"][0]["objectName"] == "D22"
    assert data["systemNotifications"][0]["level"] == "WARN"
    assert data["applicationCredentials"] == []
    request = data["instanceExtensionRequests"][0]
    assert (request["state"], request["instance"]["name"]) == ("PENDING", "desktop 0")
    session = data["sessions"]["data"][0]
    assert session["instanceSession"]["instance"]["name"] == "desktop 0"
    assert session["user"]["fullName"] == "Ada Lovelace"
    assert data["jupyterSessions"]["data"][0]["kernelId"] == "kernel-1"
    group = world.instances[0]
    found = await gql.data(
        admin,
        """query ($g: Int!, $o: Int!) { securityGroupFilter(securityGroupId: $g, objectId: $o,
             objectType: "INSTRUMENT") { id } }""",
        {"g": 1, "o": 9},
    )
    assert found["securityGroupFilter"] is not None, group


async def test_features_not_available_yet(gql: GraphQLClient, admin: Any, world: Any) -> None:
    data = await gql.data(
        admin,
        """{
          devicePools { id cloudDevice { identifier } cloudClient { id name type } }
          devicePoolUsage { devicePoolId }
          cloudDevices(cloudId: -1) { identifier type }
          cloudResourceClasses(cloudId: -1) { available resourceClasses }
          hypervisors { id allocations { serverComputeId instance { id } } }
          hypervisor(id: 1) { id allocations { serverComputeId instance { id name } } }
          hypervisorsAvailable
          bookingRequests { id }
          bookingTokens(bookingRequestId: 1) { id }
          bookingConfigurationForCloudClient(cloudClientId: -1) { enabled }
          bookingConfigurations { enabled }
          flavourAvailabilitiesFutures(flavourIds: [1]) { confidence }
        }""",
    )
    assert data == {
        "devicePools": [],
        "devicePoolUsage": [],
        "cloudDevices": [],
        "cloudResourceClasses": {"available": False, "resourceClasses": []},
        "hypervisors": [],
        "hypervisor": None,
        "hypervisorsAvailable": False,
        "bookingRequests": [],
        "bookingTokens": [],
        "bookingConfigurationForCloudClient": None,
        "bookingConfigurations": [],
        "flavourAvailabilitiesFutures": [],
    }
    _, body = await gql.post(admin, "{ bookingRequest(id: 1) { id } }")
    assert body["errors"][0]["extensions"]["code"] == "NOT_AVAILABLE"
    _status, body = await gql.post(
        admin,
        """mutation { migrateCloudInstance(computeId: "x", host: "h", blockMigration: false,
             diskOverCommit: false) }""",
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_AVAILABLE"
