"""/api/account/experiments: the caller's experiments (paged, filtered), count, years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert

from visa_platform.db.models import Experiment, Instrument, Proposal, User, experiment_user
from visa_platform.db.types import utcnow
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer

URL = "/api/account/experiments"


def day(year: int, month: int, dom: int, hour: int = 9) -> datetime:
    return datetime(year, month, dom, hour, tzinfo=UTC)


async def seed(db_session: Any) -> None:
    """User 1001's team experiments on two instruments, plus ones they must not see."""
    db_session.add_all(
        [
            User(id="1001", first_name="Ada", last_name="Lovelace", activated_at=utcnow()),
            User(id="2002", first_name="Alan", last_name="Turing", activated_at=utcnow()),
            Instrument(id=1, name="IN5"),
            Instrument(id=2, name="D22"),
            Proposal(
                id=10, identifier="1-01-100", title="Magnons", url="https://p/10", doi="10.5291/P10"
            ),
            Proposal(id=11, identifier="1-02-200", title="Micelles"),
            Proposal(
                id=12, identifier="9-99-999", title="Public", public_at=utcnow() - timedelta(days=1)
            ),
            Proposal(
                id=13, identifier="9-99-998", title="Future", public_at=utcnow() + timedelta(days=9)
            ),
        ]
    )
    await db_session.flush()
    db_session.add_all(
        [
            Experiment(
                id="e1",
                instrument_id=1,
                proposal_id=10,
                start_date=day(2023, 3, 1),
                end_date=day(2023, 3, 5),
                title="Run 1",
                url="https://e/1",
                doi="10.5291/E1",
            ),
            Experiment(
                id="e2",
                instrument_id=2,
                proposal_id=11,
                start_date=day(2024, 12, 31, 22),
                end_date=day(2025, 1, 2),
            ),
            Experiment(
                id="e3",
                instrument_id=1,
                proposal_id=11,
                start_date=day(2025, 6, 1),
                end_date=day(2025, 6, 3),
            ),
            Experiment(
                id="e4", instrument_id=2, proposal_id=10, start_date=None, end_date=day(2025, 6, 3)
            ),  # undated: invisible
            Experiment(
                id="e5",
                instrument_id=2,
                proposal_id=11,
                start_date=day(2022, 1, 1),
                end_date=day(2022, 1, 2),
            ),  # not in the team
            Experiment(
                id="o1",
                instrument_id=2,
                proposal_id=12,
                start_date=day(2019, 5, 1),
                end_date=day(2019, 5, 2),
            ),  # open data
            Experiment(
                id="o2",
                instrument_id=2,
                proposal_id=13,
                start_date=day(2018, 5, 1),
                end_date=day(2018, 5, 2),
            ),  # public only next week
        ]
    )
    await db_session.flush()
    await db_session.execute(
        insert(experiment_user),
        [{"experiment_id": e, "user_id": "1001"} for e in ("e1", "e2", "e3", "e4")]
        + [{"experiment_id": "e5", "user_id": "2002"}],
    )
    await db_session.commit()


async def get(client: Any, token: str, query: str = "") -> Any:
    response = await client.get(f"{URL}{query}", headers=bearer(token))
    return response.status_code, await response.get_json()


async def test_lists_team_experiments_with_every_key(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    await seed(db_session)
    token = accounts.add("1001")
    status, body = await get(client, token, "?orderBy=date")
    assert status == 200
    assert set(body) == {"data", "_metadata", "errors"}
    assert body["_metadata"] == {"count": 3, "page": 1, "limit": 25}
    assert body["errors"] == []
    assert [e["id"] for e in body["data"]] == ["e1", "e2", "e3"]
    assert body["data"][0] == {
        "id": "e1",
        "instrument": {"id": 1, "name": "IN5"},
        "proposal": {
            "id": 10,
            "identifier": "1-01-100",
            "title": "Magnons",
            "url": "https://p/10",
            "doi": "10.5291/P10",
        },
        "title": "Run 1",
        "url": "https://e/1",
        "doi": "10.5291/E1",
        "startDate": "2023-03-01",
        "endDate": "2023-03-05",
    }
    assert body["data"][1]["proposal"] == {
        "id": 11,
        "identifier": "1-02-200",
        "title": "Micelles",
        "url": None,
        "doi": None,
    }
    assert body["data"][1]["title"] is None


async def test_ordering_and_paging(client: Any, db_session: Any, accounts: StaticAccounts) -> None:
    await seed(db_session)
    token = accounts.add("1001")
    _, body = await get(client, token, "?orderBy=date&descending=true")
    assert [e["id"] for e in body["data"]] == ["e3", "e2", "e1"]
    _, body = await get(client, token, "?orderBy=instrument")
    assert [e["instrument"]["name"] for e in body["data"]] == ["D22", "IN5", "IN5"]
    _, body = await get(client, token, "?orderBy=proposal&descending=TRUE")
    assert [e["proposal"]["identifier"] for e in body["data"]] == [
        "1-02-200",
        "1-02-200",
        "1-01-100",
    ]
    _, body = await get(client, token, "?orderBy=nonsense")  # ignored, as in VISA
    assert sorted(e["id"] for e in body["data"]) == ["e1", "e2", "e3"]
    # five more experiments so that a page of 5 is not the whole list
    for i in range(5):
        db_session.add(
            Experiment(
                id=f"p{i}",
                instrument_id=1,
                proposal_id=10,
                start_date=day(2020, 1, 1 + i),
                end_date=day(2020, 2, 1),
            )
        )
    await db_session.flush()
    await db_session.execute(
        insert(experiment_user), [{"experiment_id": f"p{i}", "user_id": "1001"} for i in range(5)]
    )
    await db_session.commit()
    _, first = await get(client, token, "?orderBy=date&limit=5&page=1")
    _, second = await get(client, token, "?orderBy=date&limit=5&page=2")
    assert first["_metadata"] == {"count": 8, "page": 1, "limit": 5}
    assert second["_metadata"] == {"count": 8, "page": 2, "limit": 5}
    assert [e["id"] for e in first["data"]] == ["p0", "p1", "p2", "p3", "p4"]
    assert [e["id"] for e in second["data"]] == ["e1", "e2", "e3"]
    _, beyond = await get(client, token, "?limit=5&page=3")
    assert beyond["data"] == [] and beyond["_metadata"]["count"] == 8


async def test_filters(client: Any, db_session: Any, accounts: StaticAccounts) -> None:
    await seed(db_session)
    token = accounts.add("1001")

    async def ids(query: str) -> list[str]:
        status, body = await get(client, token, query + "&orderBy=date")
        assert status == 200, body
        return [e["id"] for e in body["data"]]

    assert await ids("?instrumentId=1") == ["e1", "e3"]
    assert await ids("?instrumentId=99") == []
    # both dates filter the start date; the end day is included whole
    assert await ids("?startDate=2024-01-01&endDate=2024-12-31") == ["e2"]
    assert await ids("?startDate=2024-01-01") == ["e2", "e3"]
    assert await ids("?endDate=2023-03-01") == ["e1"]
    assert await ids("?proposal=1-01-100") == ["e1"]
    assert await ids("?proposal=1-01-100&proposal=1-02-200") == ["e1", "e2", "e3"]
    assert await ids("?proposalLike=1-0") == ["e1", "e2", "e3"]
    assert await ids("?proposalLike=1-02") == ["e2", "e3"]
    assert await ids("?proposalLike=%25") == []  # a wildcard is a literal character
    assert await ids("?doi=10.5291/E1") == ["e1"]
    assert await ids("?doi=10.5291/P10") == ["e1"]  # the proposal's DOI
    # proposal and doi are OR-ed
    assert await ids("?proposal=1-02-200&doi=10.5291/E1") == ["e1", "e2", "e3"]
    assert await ids("?proposal=1-02-200&instrumentId=1") == ["e3"]
    # the legacy comma-separated forms
    assert await ids("?proposals=1-01-100,1-02-200") == ["e1", "e2", "e3"]


async def test_errors_name_requested_identifiers_not_found(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    await seed(db_session)
    token = accounts.add("1001")
    _, body = await get(
        client, token, "?proposal=1-01-100&proposal=NOPE&proposal=ALSO&doi=10.5291/E1&doi=10.1/none"
    )
    assert [e["id"] for e in body["data"]] == ["e1"]
    assert body["errors"] == [
        "Could not obtain experiments for the following proposal(s): NOPE, ALSO",
        "Could not obtain experiments for the following doi(s): 10.1/none",
    ]
    # another user's proposal is "not found" for this caller
    _, body = await get(client, token, "?proposal=9-99-999")
    assert body["data"] == []
    assert body["errors"] == [
        "Could not obtain experiments for the following proposal(s): 9-99-999"
    ]


@pytest.mark.parametrize(
    "query",
    [
        "?limit=abc",
        "?page=1.5",
        "?instrumentId=x",
        "?descending=maybe",
        "?includeOpenData=yes",
        "?startDate=2024-13-01",
        "?endDate=31/12/2024",
        "?startDate=2024-1",
    ],
)
async def test_bad_input_is_400(
    client: Any, db_session: Any, accounts: StaticAccounts, query: str
) -> None:
    await seed(db_session)
    status, body = await get(client, accounts.add("1001"), query)
    assert status == 400
    assert body["data"] is None and body["errors"]
    if "Date" in query:
        assert body["errors"] == ["Could not convert dates"]
    if not any(name in query for name in ("limit", "page", "descending")):  # filters
        status, _ = await get(client, accounts.add("1001"), query.replace("?", "/_count?"))
        assert status == 400


@pytest.mark.parametrize(
    ("query", "violations"),
    [
        ("?limit=4", [("experiments.limit", "must be greater than or equal to 5")]),
        ("?limit=101", [("experiments.limit", "must be less than or equal to 100")]),
        ("?page=0&limit=1", [("experiments.page", "must be greater than or equal to 1"),
                             ("experiments.limit", "must be greater than or equal to 5")]),
    ],
)  # fmt: skip
async def test_paging_out_of_range_is_a_violation_report(
    client: Any, accounts: StaticAccounts, query: str, violations: list[tuple[str, str]]
) -> None:
    status, body = await get(client, accounts.add("1001"), query)
    assert status == 400
    assert body == {
        "title": "Constraint Violation",
        "status": 400,
        "violations": [{"field": f, "message": m} for f, m in violations],
    }


async def test_limits_at_the_bounds_are_accepted(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    await seed(db_session)
    token = accounts.add("1001")
    for query in ("?limit=5", "?limit=100", "?page=7"):
        status, _ = await get(client, token, query)
        assert status == 200


async def test_open_data_needs_the_setting_and_the_parameter(
    app: Any, client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    await seed(db_session)
    token = accounts.add("1001")
    _, body = await get(client, token, "?includeOpenData=true&orderBy=date")
    assert [e["id"] for e in body["data"]] == ["e1", "e2", "e3"]  # setting off
    state = runtime(app.app)
    state.settings = state.settings.model_copy(update={"client_config_include_open_data": True})
    _, body = await get(client, token, "?orderBy=date")
    assert [e["id"] for e in body["data"]] == ["e1", "e2", "e3"]  # parameter absent
    _, body = await get(client, token, "?includeOpenData=true&orderBy=date")
    assert [e["id"] for e in body["data"]] == ["o1", "e1", "e2", "e3"]
    assert body["_metadata"]["count"] == 4
    assert await get(client, token, "/_count?includeOpenData=true") == (200, {"data": 4})
    _, body = await get(client, token, "/years")
    assert body == {"data": [2019, 2023, 2024, 2025]}


async def test_count_years_and_instruments(
    client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    await seed(db_session)
    token = accounts.add("1001")
    assert await get(client, token, "/_count") == (200, {"data": 3})
    assert await get(client, token, "/_count?instrumentId=2") == (200, {"data": 1})
    assert await get(client, token, "/_count?startDate=2025-01-01") == (200, {"data": 1})
    # e2 starts at 22:00 UTC on 2024-12-31: its year is 2024 in UTC
    assert await get(client, token, "/years") == (200, {"data": [2023, 2024, 2025]})
    assert await get(client, token, "/instruments") == (
        200,
        {"data": [{"id": 2, "name": "D22"}, {"id": 1, "name": "IN5"}]},
    )
    stranger = accounts.add("3003")
    assert await get(client, stranger, "") == (
        200,
        {"data": [], "_metadata": {"count": 0, "page": 1, "limit": 25}, "errors": []},
    )
    assert await get(client, stranger, "/years") == (200, {"data": []})
    assert await get(client, stranger, "/instruments") == (200, {"data": []})
    assert await get(client, stranger, "/_count") == (200, {"data": 0})


@pytest.mark.parametrize("path", ["", "/_count", "/years", "/instruments"])
async def test_anonymous_is_401(client: Any, path: str) -> None:
    response = await client.get(URL + path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_statements_do_not_grow_with_rows(
    app: Any, client: Any, db_session: Any, accounts: StaticAccounts
) -> None:
    """5 or 50 experiments (each on its own instrument and proposal): same number of queries."""
    db_session.add(User(id="1001", first_name="Ada", last_name="Lovelace", activated_at=utcnow()))
    await db_session.commit()
    token = accounts.add("1001")
    await get(client, token)  # first login writes the user; not measured

    async def add(start: int, stop: int) -> None:
        for i in range(start, stop):
            db_session.add_all(
                [
                    Instrument(id=100 + i, name=f"I{i:03d}"),
                    Proposal(id=100 + i, identifier=f"P{i:03d}"),
                ]
            )
        await db_session.flush()
        for i in range(start, stop):
            db_session.add(
                Experiment(
                    id=f"x{i}",
                    instrument_id=100 + i,
                    proposal_id=100 + i,
                    start_date=day(2024, 1, 1),
                    end_date=day(2024, 1, 2),
                )
            )
        await db_session.flush()
        await db_session.execute(
            insert(experiment_user),
            [{"experiment_id": f"x{i}", "user_id": "1001"} for i in range(start, stop)],
        )
        await db_session.commit()

    engine = runtime(app.app).engine
    assert engine is not None
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def measure(query: str) -> int:
        statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            status, _ = await get(client, token, query)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert status == 200
        return len(statements)

    await add(0, 5)
    few = await measure("?limit=100&orderBy=instrument")
    years_few = await measure("/years")
    await add(5, 50)
    many = await measure("?limit=100&orderBy=instrument")
    assert few == many and few > 0
    assert years_few == await measure("/years")
    _, body = await get(client, token, "?limit=100")
    assert len(body["data"]) == 50
