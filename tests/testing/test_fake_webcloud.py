"""The fake web provider follows the contract of spec §3.4."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from visa_platform.testing.fake_webcloud import FakeWebCloud


@pytest.fixture
async def http() -> AsyncIterator[tuple[FakeWebCloud, httpx.AsyncClient]]:
    async with FakeWebCloud(build_seconds=0.05, transition_seconds=0.05) as cloud:
        headers = {"X-Auth-Token": cloud.auth_token}
        async with httpx.AsyncClient(base_url=cloud.url, headers=headers, timeout=5) as client:
            yield cloud, client


async def wait_state(client: httpx.AsyncClient, instance_id: str, state: str) -> dict[str, object]:
    for _ in range(100):
        body = (await client.get(f"/api/instances/{instance_id}")).json()
        if body["state"] == state:
            return dict(body)
        await asyncio.sleep(0.02)
    raise AssertionError(f"{instance_id} never {state}")


async def test_token_is_required(http: tuple[FakeWebCloud, httpx.AsyncClient]) -> None:
    cloud, _ = http
    async with httpx.AsyncClient(base_url=cloud.url) as anonymous:
        assert (await anonymous.get("/api/images")).status_code == 401
        bad = await anonymous.get("/api/images", headers={"X-Auth-Token": "nope"})
        assert bad.status_code == 401


async def test_instance_life(http: tuple[FakeWebCloud, httpx.AsyncClient]) -> None:
    cloud, client = http
    body = {"name": "n", "imageId": "100", "flavourId": "small", "securityGroups": ["visa-rdp"]}
    created = await client.post("/api/instances", json=body)
    assert created.status_code == 201
    instance_id = created.json()["id"]
    active = await wait_state(client, instance_id, "ACTIVE")
    assert str(active["address"]).startswith("127.")
    assert (await client.post(f"/api/instances/{instance_id}/start")).status_code == 400
    assert (await client.post(f"/api/instances/{instance_id}/shutdown")).status_code == 200
    assert (await client.get(f"/api/instances/{instance_id}")).json()["state"] == "STOPPING"
    await wait_state(client, instance_id, "STOPPED")
    assert (await client.post(f"/api/instances/{instance_id}/start")).status_code == 200
    await wait_state(client, instance_id, "ACTIVE")
    groups = f"/api/instances/{instance_id}/security_groups"
    assert (await client.post(groups, json={"name": "visa-ssh"})).status_code == 200
    assert (await client.get(groups)).json() == ["visa-rdp", "visa-ssh"]
    assert (await client.post(groups + "/remove", json={"name": "visa-rdp"})).status_code == 200
    identifiers = (await client.get("/api/instances/identifiers")).json()
    assert identifiers == [{"id": instance_id, "name": "n"}]
    metrics = (await client.get("/api/metrics")).json()
    assert (metrics["totalInstancesUsed"], metrics["totalCoresUsed"]) == (1, 2)
    assert (await client.delete(f"/api/instances/{instance_id}")).status_code == 204
    missing = await client.get(f"/api/instances/{instance_id}")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not found"})
    assert cloud.instances == {}


async def test_creation_errors_and_error_state(
    http: tuple[FakeWebCloud, httpx.AsyncClient],
) -> None:
    cloud, client = http
    bad = await client.post(
        "/api/instances", json={"name": "n", "imageId": "x", "flavourId": "small"}
    )
    assert (bad.status_code, bad.json()) == (400, {"error": "unknown image x"})
    cloud.servers_go_to_error = True
    body = {"name": "n", "imageId": "100", "flavourId": "small"}
    instance_id = (await client.post("/api/instances", json=body)).json()["id"]
    failed = await wait_state(client, instance_id, "ERROR")
    assert failed["fault"]


async def test_pytest_fixtures(fake_openstack: object, fake_webcloud: FakeWebCloud) -> None:
    async with httpx.AsyncClient() as client:
        versions = await client.get(f"{fake_openstack.url}/compute")  # type: ignore[attr-defined]
        assert versions.json()["versions"][0]["id"] == "v2.1"
        images = await client.get(
            f"{fake_webcloud.url}/api/images", headers={"X-Auth-Token": fake_webcloud.auth_token}
        )
        assert images.status_code == 200
