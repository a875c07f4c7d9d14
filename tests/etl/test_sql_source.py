"""The ``sql`` source: a user-office database read with one query per kind."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.etl.conftest import counts, rows, run
from visa_etl_sql.source import SqlSource
from visa_platform.etl import Kind, SourceContext, SourceError
from visa_platform.testing.databases import TestDatabase as Db
from visa_platform.testing.databases import engine_for, postgresql_url

USER_OFFICE = """
CREATE TABLE {s}orgs (org_no INTEGER PRIMARY KEY, label VARCHAR(200), city VARCHAR(100));
CREATE TABLE {s}people (pid INTEGER PRIMARY KEY, given VARCHAR(50), family VARCHAR(50),
                        mail VARCHAR(90), org_no INTEGER, is_staff INTEGER);
CREATE TABLE {s}beamlines (code INTEGER PRIMARY KEY, label VARCHAR(20), contact INTEGER);
CREATE TABLE {s}props (prop_no INTEGER PRIMARY KEY, ref VARCHAR(20), title VARCHAR(200));
CREATE TABLE {s}visits (visit VARCHAR(20) PRIMARY KEY, prop_no INTEGER, code INTEGER,
                        starts TIMESTAMP, ends TIMESTAMP);
CREATE TABLE {s}team (visit VARCHAR(20), pid INTEGER);
INSERT INTO {s}orgs VALUES (1, 'ILL', 'Grenoble'), (2, 'ESS', 'Lund');
INSERT INTO {s}people VALUES (7, 'Lise', 'Meitner', 'lise@x.org', 1, 1),
                             (8, 'Otto', 'Hahn', NULL, NULL, 0), (9, 'Nobody', NULL, NULL, 2, 0);
INSERT INTO {s}beamlines VALUES (21, 'D22', 7);
INSERT INTO {s}props VALUES (300, '9-10-1', 'Fission');
INSERT INTO {s}visits VALUES ('V1', 300, 21, '2024-02-01 08:00:00', '2024-02-03 08:00:00');
INSERT INTO {s}team VALUES ('V1', 7), ('V1', 8), ('V1', 9);
"""

QUERIES = {
    "employer": "SELECT org_no AS id, label AS name, city AS town FROM {s}orgs",
    "user": (
        "SELECT pid AS id, given AS first_name, family AS last_name, mail AS email, "
        "org_no AS affiliation_id FROM {s}people ORDER BY pid"
    ),
    "instrument": "SELECT code AS id, label AS name FROM {s}beamlines",
    "proposal": "SELECT prop_no AS id, ref AS identifier, title FROM {s}props",
    "experiment": (
        "SELECT visit AS id, prop_no AS proposal_id, code AS instrument_id, "
        "starts AS start_date, ends AS end_date FROM {s}visits"
    ),
    "experiment_user": "SELECT visit AS experiment_id, pid AS user_id FROM {s}team",
    "instrument_scientist": "SELECT code AS instrument_id, contact AS user_id FROM {s}beamlines",
    "user_role": "SELECT pid AS user_id, 'STAFF' AS role FROM {s}people WHERE is_staff = 1",
}


def queries(prefix: str) -> dict[str, str]:
    return {kind: query.format(s=prefix) for kind, query in QUERIES.items()}


@pytest.fixture(params=["sqlite-thread", "sqlite-async", "postgresql"])
async def user_office(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict]:  # type: ignore[type-arg]
    """Options of a ``sql`` source on a made-up user-office database."""
    if request.param.startswith("sqlite"):
        path = tmp_path / "uo.db"
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            for statement in USER_OFFICE.format(s="").split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement)
        engine.dispose()
        driver = "sqlite+pysqlite" if request.param == "sqlite-thread" else "sqlite"
        yield {"url": f"{driver}:///{path}", "queries": queries(""), "batch_size": 2}
        return
    schema = f"uo_{secrets.token_hex(4)}"
    url = postgresql_url()
    admin = engine_for(Db("postgresql", url, "public"))
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            for statement in USER_OFFICE.format(s=f"{schema}.").split(";"):
                if statement.strip():
                    await conn.exec_driver_sql(statement)
        plain = url.replace("postgresql+asyncpg://", "postgresql://")
        yield {"url": plain, "queries": queries(f"{schema}."), "batch_size": 2}
    finally:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()


async def test_a_user_office_database_is_loaded(
    etl_engine: AsyncEngine,
    user_office: dict,  # type: ignore[type-arg]
) -> None:
    source = SqlSource(SourceContext("uo", user_office))
    try:
        report = await run(etl_engine, source)
        again = await run(etl_engine, source)
    finally:
        await source.aclose()
    assert counts(report, "employer") == (2, 0, 0, 0)
    user = report.kind("user")
    assert (user.created, user.rejected) == (2, 1)
    assert str(user.rejections[0]) == "uo user[id=9]: last_name is required"
    assert str(report.kind("experiment_user").rejections[0]) == (
        "uo experiment_user[experiment_id=V1,user_id=9]: unknown user_id 9 (no such users row)"
    )
    assert counts(report, "user_role") == (2, 0, 0, 0)  # STAFF + INSTRUMENT_SCIENTIST
    assert counts(again, "user") == (0, 0, 2, 1)
    assert await rows(etl_engine, "SELECT id, email, affiliation_id FROM users ORDER BY id") == [
        ("7", "lise@x.org", 1),
        ("8", None, None),
    ]
    (start,) = await rows(etl_engine, "SELECT start_date IS NOT NULL FROM experiment")
    assert start == (True,)


async def test_a_failing_query_is_one_clear_error_and_writes_nothing(
    etl_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "uo.db"
    options = {
        "url": f"sqlite:///{path}",
        "queries": {"employer": "SELECT 1 AS id", "user": "SELECT * FROM missing_table"},
    }
    source = SqlSource(SourceContext("uo", options))
    try:
        with pytest.raises(SourceError, match=r"source uo: query user on sqlite\+aiosqlite:///"):
            await run(etl_engine, source)
    finally:
        await source.aclose()
    assert await rows(etl_engine, "SELECT count(*) FROM employer") == [(0,)]


def test_configuration_problems_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SourceError, match=r"`url` .* is required"):
        SqlSource(SourceContext("uo", {"queries": {"user": "SELECT 1"}}))
    with pytest.raises(SourceError, match=r"\$UO_URL is not set"):
        SqlSource(SourceContext("uo", {"url_env": "UO_URL", "queries": {"user": "SELECT 1"}}))
    monkeypatch.setenv("UO_URL", "postgresql://reader:s3cret@uo.example/uo")
    source = SqlSource(SourceContext("uo", {"url_env": "UO_URL", "queries": {"user": "x"}}))
    assert source.display_url == "postgresql+asyncpg://reader:***@uo.example/uo"
    assert source.kinds() == [Kind.USER]
    with pytest.raises(SourceError, match="unknown kind 'users'"):
        SqlSource(SourceContext("uo", {"url": "sqlite://", "queries": {"users": "SELECT 1"}}))
    with pytest.raises(SourceError, match="no SQLAlchemy dialect"):
        SqlSource(SourceContext("uo", {"url": "nosuch://x", "queries": {"user": "x"}})).records(
            Kind.USER
        )
