"""ETL test helpers: an in-memory source and a database with VISA's roles seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from visa_platform.etl import Kind, LoadOptions, Record, RunReport, load


class MemorySource:
    """A source built from lists of field dicts; origins are ``<kind>:<n>``."""

    def __init__(self, data: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        self.data = {Kind(k): list(v) for k, v in data.items()}

    def kinds(self) -> list[Kind]:
        return list(self.data)

    async def _stream(self, kind: Kind) -> AsyncIterator[Record]:
        for number, fields in enumerate(self.data[kind], start=1):
            yield Record(dict(fields), f"{kind}:{number}")

    def records(self, kind: Kind) -> AsyncIterator[Record]:
        return self._stream(kind)


def at(text_value: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DD[ HH:MM]``."""
    return datetime.fromisoformat(text_value).replace(tzinfo=UTC)


def facility(**overrides: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A small, valid user office: 2 employers, 4 users, 2 instruments, 2 proposals ..."""
    data: dict[str, list[dict[str, Any]]] = {
        "employer": [
            {"id": 1, "name": "ILL", "town": "Grenoble", "country_code": "FR"},
            {"id": 2, "name": "ESRF", "town": "Grenoble", "country_code": "FR"},
        ],
        "user": [
            {
                "id": "1001",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@x.org",
                "affiliation_id": 1,
                "instance_quota": 3,
            },
            {"id": "1002", "first_name": "Alan", "last_name": "Turing", "affiliation_id": 2},
            {
                "id": "1003",
                "first_name": "Grace",
                "last_name": "Hopper",
                "affiliation_id": None,
                "activated_at": "2024-01-02T03:04:05+00:00",
            },
            {"id": "1004", "last_name": "Curie", "instance_quota": -1},
        ],
        "instrument": [{"id": 10, "name": "D11"}, {"id": 11, "name": "IN5"}],
        "proposal": [
            {"id": 500, "identifier": "1-01-100", "title": "Soft matter"},
            {"id": 501, "identifier": "1-01-101", "title": "Magnets", "doi": "10.5291/ILL-1"},
        ],
        "experiment": [
            {
                "id": "E1",
                "proposal_id": 500,
                "instrument_id": 10,
                "start_date": "2024-03-01T08:00:00+00:00",
                "end_date": "2024-03-04T08:00:00+00:00",
            },
            {
                "id": "E2",
                "proposal_id": 501,
                "instrument_id": 11,
                "start_date": "2024-04-01T08:00:00+00:00",
                "end_date": "2024-04-02T08:00:00+00:00",
                "title": "Magnets, part 1",
            },
        ],
        "experiment_user": [
            {"experiment_id": "E1", "user_id": "1001"},
            {"experiment_id": "E1", "user_id": "1002"},
            {"experiment_id": "E2", "user_id": "1003"},
        ],
        "instrument_scientist": [{"instrument_id": 10, "user_id": "1004"}],
        "user_role": [
            {"user_id": "1004", "role": "STAFF"},
            {"user_id": "1003", "role": "IT_SUPPORT", "expires_at": "2030-01-01T00:00:00+00:00"},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
async def etl_engine(db_engine: AsyncEngine) -> AsyncEngine:
    """``db_engine`` with VISA's roles and protocols seeded (what the server does at start)."""
    from visa_platform.db.engine import session_factory
    from visa_platform.db.seed import ensure_fixtures

    await ensure_fixtures(session_factory(db_engine))
    return db_engine


async def run(engine: AsyncEngine, source: Any, **options: Any) -> RunReport:
    options.setdefault("batch_size", 2)  # several batches even with tiny inputs
    return await load(engine, source, name="test", options=LoadOptions(**options))


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


def counts(report: RunReport, kind: str) -> tuple[int, int, int, int]:
    """(created, updated, unchanged, rejected) of one kind."""
    k = report.kind(kind)
    return (k.created, k.updated, k.unchanged, k.rejected)
