"""The fake OpenStack speaks enough Keystone/Nova/Glance/Neutron, and its switches work."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from visa_platform.testing.fake_openstack import FakeOpenStack


@pytest.fixture
async def cloud() -> AsyncIterator[FakeOpenStack]:
    async with FakeOpenStack(build_seconds=0.05, transition_seconds=0.05) as fake:
        yield fake


@pytest.fixture
async def http(cloud: FakeOpenStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=cloud.url, timeout=5) as client:
        yield client


def app_credential(secret: str = "visa-app-secret") -> dict[str, Any]:
    identity = {
        "methods": ["application_credential"],
        "application_credential": {"id": "visa-app-id", "secret": secret},
    }
    return {"auth": {"identity": identity}}


def password(value: str = "visa-password") -> dict[str, Any]:
    user = {"name": "visa", "domain": {"name": "Default"}, "password": value}
    return {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": user}},
            "scope": {"project": {"name": "visa", "domain": {"name": "Default"}}},
        }
    }


async def token(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post("/identity/v3/auth/tokens", json=app_credential())
    assert response.status_code == 201
    return {"X-Auth-Token": response.headers["x-subject-token"]}


async def create(http: httpx.AsyncClient, headers: dict[str, str], **server: Any) -> str:
    body = {"name": "s", "flavorRef": "1", "imageRef": "8a8c7f1e-0000-4000-8000-000000000001"}
    body.update(server)
    response = await http.post("/compute/v2.1/servers", json={"server": body}, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["server"]["id"])


async def wait_status(
    http: httpx.AsyncClient, headers: dict[str, str], server_id: str, status: str
) -> dict[str, Any]:
    for _ in range(100):
        response = await http.get(f"/compute/v2.1/servers/{server_id}", headers=headers)
        server: dict[str, Any] = response.json()["server"]
        if server["status"] == status and not server["OS-EXT-STS:task_state"]:
            return server
        await asyncio.sleep(0.02)
    raise AssertionError(f"{server_id} never reached {status}")


async def test_discovery_documents(http: httpx.AsyncClient) -> None:
    assert (await http.get("/identity/v3")).json()["version"]["id"] == "v3.14"
    assert (await http.get("/compute/v2.1")).json()["version"]["version"] == "2.96"
    assert (await http.get("/image")).status_code == 300
    assert (await http.get("/network")).json()["versions"][0]["id"] == "v2.0"


@pytest.mark.parametrize("body", [app_credential(), password()])
async def test_tokens_for_both_methods(
    http: httpx.AsyncClient, cloud: FakeOpenStack, body: dict[str, Any]
) -> None:
    response = await http.post("/identity/v3/auth/tokens", json=body)
    assert response.status_code == 201
    document = response.json()["token"]
    assert {s["type"] for s in document["catalog"]} == {"identity", "compute", "image", "network"}
    assert response.headers["x-subject-token"] in cloud.tokens


@pytest.mark.parametrize("body", [app_credential("wrong"), password("wrong")])
async def test_wrong_credentials_are_refused(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert (await http.post("/identity/v3/auth/tokens", json=body)).status_code == 401


async def test_services_need_a_valid_token(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    assert (await http.get("/compute/v2.1/servers/detail")).status_code == 401
    headers = await token(http)
    assert (await http.get("/compute/v2.1/servers/detail", headers=headers)).status_code == 200
    cloud.expire_tokens()
    response = await http.get("/compute/v2.1/servers/detail", headers=headers)
    assert response.status_code == 401


async def test_token_lifetime(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    cloud.token_lifetime = 0.2
    headers = await token(http)
    assert (await http.get("/compute/v2.1/limits", headers=headers)).status_code == 200
    await asyncio.sleep(0.3)
    assert (await http.get("/compute/v2.1/limits", headers=headers)).status_code == 401


async def test_server_life_cycle(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    headers = await token(http)
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    server_id = await create(
        http,
        headers,
        metadata={"owner": "alice"},
        user_data=user_data,
        networks=[{"uuid": cloud.networks[1]["id"]}],
        security_groups=[{"name": "visa-rdp"}],
    )
    building = (await http.get(f"/compute/v2.1/servers/{server_id}", headers=headers)).json()
    assert building["server"]["status"] == "BUILD"
    server = await wait_status(http, headers, server_id, "ACTIVE")
    assert server["metadata"] == {"owner": "alice"}
    assert server["flavor"] == {"id": "1", "links": []}
    assert server["security_groups"] == [{"name": "visa-rdp"}]
    (address,) = server["addresses"]["data"]
    assert address["addr"].startswith("127.")
    assert cloud.servers[server_id]["user_data"] == user_data

    async def action(body: dict[str, Any]) -> int:
        url = f"/compute/v2.1/servers/{server_id}/action"
        return (await http.post(url, json=body, headers=headers)).status_code

    assert await action({"os-start": None}) == 409
    assert await action({"os-stop": None}) == 202
    stopping = (await http.get(f"/compute/v2.1/servers/{server_id}", headers=headers)).json()
    assert stopping["server"]["OS-EXT-STS:task_state"] == "powering-off"
    await wait_status(http, headers, server_id, "SHUTOFF")
    assert await action({"os-start": None}) == 202
    await wait_status(http, headers, server_id, "ACTIVE")
    assert await action({"reboot": {"type": "HARD"}}) == 202
    rebooting = (await http.get(f"/compute/v2.1/servers/{server_id}", headers=headers)).json()
    assert rebooting["server"]["status"] == "HARD_REBOOT"
    await wait_status(http, headers, server_id, "ACTIVE")
    assert await action({"addSecurityGroup": {"name": "visa-ssh"}}) == 202
    assert await action({"addSecurityGroup": {"name": "nope"}}) == 404
    groups = await http.get(
        f"/compute/v2.1/servers/{server_id}/os-security-groups", headers=headers
    )
    assert [g["name"] for g in groups.json()["security_groups"]] == ["visa-rdp", "visa-ssh"]
    assert await action({"removeSecurityGroup": {"name": "visa-rdp"}}) == 202
    assert await action({"removeSecurityGroup": {"name": "visa-rdp"}}) == 400
    url = f"/compute/v2.1/servers/{server_id}"
    assert (await http.delete(url, headers=headers)).status_code == 204
    assert (await http.get(url, headers=headers)).status_code == 404
    assert (await http.delete(url, headers=headers)).status_code == 404


async def test_flavour_embedded_from_microversion_2_47(
    http: httpx.AsyncClient, cloud: FakeOpenStack
) -> None:
    headers = await token(http)
    (server_id,) = cloud.add_servers(1)
    new = {**headers, "OpenStack-API-Version": "compute 2.96"}
    server = (await http.get(f"/compute/v2.1/servers/{server_id}", headers=new)).json()["server"]
    assert server["flavor"]["original_name"] == "m1.small"
    assert "id" not in server["flavor"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"flavorRef": "nope"}, 400),
        ({"imageRef": "nope"}, 400),
        ({"security_groups": [{"name": "nope"}]}, 400),
        ({"networks": [{"uuid": "nope"}]}, 400),
        ({"user_data": "not base64!"}, 400),
        ({"metadata": {"n": 1}}, 400),
    ],
)
async def test_invalid_creations(
    http: httpx.AsyncClient, change: dict[str, Any], status: int
) -> None:
    headers = await token(http)
    body = {"name": "s", "flavorRef": "1", "imageRef": "8a8c7f1e-0000-4000-8000-000000000001"}
    body.update(change)
    response = await http.post("/compute/v2.1/servers", json={"server": body}, headers=headers)
    assert response.status_code == status
    assert "badRequest" in response.json()


async def test_quota(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    headers = await token(http)
    cloud.limits["maxTotalInstances"] = 1
    await create(http, headers)
    body = {"name": "s", "flavorRef": "1", "imageRef": "8a8c7f1e-0000-4000-8000-000000000001"}
    response = await http.post("/compute/v2.1/servers", json={"server": body}, headers=headers)
    assert response.status_code == 403
    limits = (await http.get("/compute/v2.1/limits", headers=headers)).json()["limits"]["absolute"]
    assert (limits["totalInstancesUsed"], limits["totalCoresUsed"]) == (1, 1)


async def test_servers_go_to_error(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    headers = await token(http)
    cloud.servers_go_to_error = True
    server = await wait_status(http, headers, await create(http, headers), "ERROR")
    assert server["fault"]["code"] == 500


async def test_server_list_pages(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    headers = await token(http)
    cloud.page_size = 4
    ids = cloud.add_servers(10)
    seen: list[str] = []
    url: str | None = "/compute/v2.1/servers/detail"
    pages = 0
    while url:
        body = (await http.get(url, headers=headers)).json()
        seen += [s["id"] for s in body["servers"]]
        links = body.get("servers_links") or []
        url = links[0]["href"] if links else None
        pages += 1
    assert seen == ids
    assert pages == 3
    brief = (await http.get("/compute/v2.1/servers?limit=2", headers=headers)).json()
    assert set(brief["servers"][0]) == {"id", "name", "links"}


async def test_image_list_pages(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    headers = await token(http)
    cloud.images += [cloud.image_body(f"img-{n}", f"extra-{n}") for n in range(30)]
    first = (await http.get("/image/v2/images", headers=headers)).json()
    assert len(first["images"]) == 25
    second = (await http.get(f"/image{first['next']}", headers=headers)).json()
    assert len(second["images"]) == 7 and "next" not in second
    assert (await http.get("/image/v2/images/nope", headers=headers)).status_code == 404


async def test_security_groups_and_networks(http: httpx.AsyncClient) -> None:
    headers = await token(http)
    groups = await http.get("/network/v2.0/security-groups?fields=name", headers=headers)
    assert groups.json()["security_groups"][0] == {"name": "default"}
    named = await http.get("/network/v2.0/security-groups?name=visa-ssh", headers=headers)
    assert len(named.json()["security_groups"]) == 1
    networks = await http.get("/network/v2.0/networks", headers=headers)
    assert [n["name"] for n in networks.json()["networks"]] == ["private", "data"]


async def test_fault_switches(http: httpx.AsyncClient, cloud: FakeOpenStack) -> None:
    headers = await token(http)
    cloud.faults.fail_next(503, match="/servers")
    assert (await http.get("/compute/v2.1/limits", headers=headers)).status_code == 200
    response = await http.get("/compute/v2.1/servers/detail", headers=headers)
    assert response.status_code == 503
    assert "serviceUnavailable" in response.json()
    cloud.faults.malformed_next()
    response = await http.get("/compute/v2.1/limits", headers=headers)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    cloud.faults.set_latency(0.2)
    started = time.monotonic()
    assert (await http.get("/compute/v2.1/limits", headers=headers)).status_code == 200
    assert time.monotonic() - started >= 0.2
    cloud.faults.clear()
    cloud.faults.hang_next()
    with pytest.raises(httpx.ReadTimeout):
        await http.get("/compute/v2.1/limits", headers=headers, timeout=0.3)
    assert cloud.faults.pending == 0


async def test_stop_releases_hung_requests() -> None:
    cloud = FakeOpenStack()
    await cloud.start()
    cloud.faults.hang_next()
    async with httpx.AsyncClient(base_url=cloud.url, timeout=30) as http:
        pending = asyncio.ensure_future(http.get("/compute/v2.1"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await cloud.stop()
        assert time.monotonic() - started < 5
        with pytest.raises(httpx.HTTPError):
            (await pending).raise_for_status()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(cloud.url + "/compute")
