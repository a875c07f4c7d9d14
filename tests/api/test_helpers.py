"""/api/helpers/random_instance_name and its word lists."""

from __future__ import annotations

import re
from typing import Any

from visa_platform.domain.names import OBJECTS, PREDICATES, random_instance_name
from visa_platform.testing.accounts import StaticAccounts, bearer


async def test_random_instance_name(client: Any, accounts: StaticAccounts) -> None:
    token = accounts.add("1001")
    seen = set()
    for _ in range(10):
        response = await client.get("/api/helpers/random_instance_name", headers=bearer(token))
        assert response.status_code == 200
        body = await response.get_json()
        assert set(body) == {"data"}
        predicate, thing = body["data"].split("_")
        assert predicate in PREDICATES and thing in OBJECTS
        seen.add(body["data"])
    assert len(seen) > 1


async def test_random_instance_name_needs_a_user(client: Any) -> None:
    assert (await client.get("/api/helpers/random_instance_name")).status_code == 401


def test_word_lists_make_valid_instance_names() -> None:
    assert len(PREDICATES) >= 100 and len(OBJECTS) >= 100
    assert len(set(PREDICATES)) == len(PREDICATES) and len(set(OBJECTS)) == len(OBJECTS)
    for word in PREDICATES + OBJECTS:
        assert re.fullmatch(r"[a-z]+", word), word
    assert re.fullmatch(r"[a-z]+_[a-z]+", random_instance_name())
