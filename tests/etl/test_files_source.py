"""The ``files`` source: JSON Lines and CSV directories, the reference CSV layout, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.etl.conftest import counts, facility, rows, run
from visa_etl_files.source import FilesSource
from visa_platform.etl import Kind, SourceContext, SourceError


def files_source(directory: Path, **options: Any) -> FilesSource:
    return FilesSource(SourceContext("export", {"directory": str(directory), **options}))


def write_jsonl(directory: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    directory.mkdir(exist_ok=True)
    for kind, records in data.items():
        lines = "".join(json.dumps(r) + "\n" for r in records)
        (directory / f"{kind}.jsonl").write_text(lines, encoding="utf-8")


async def test_a_jsonl_directory_loads_like_the_records_it_holds(
    etl_engine: AsyncEngine, tmp_path: Path
) -> None:
    write_jsonl(tmp_path / "export", facility())
    source = files_source(tmp_path / "export")
    assert set(source.kinds()) == set(Kind)
    assert source.size_hint(Kind.USER) == 4
    report = await run(etl_engine, source)
    assert report.rejected == 0
    assert counts(report, "user") == (4, 0, 0, 0)
    assert counts(report, "user_role") == (3, 0, 0, 0)
    again = await run(etl_engine, files_source(tmp_path / "export"))
    assert sum(k.unchanged for k in again.kinds) == sum(k.created for k in report.kinds)


REFERENCE_LAYOUT = {
    "employer.csv": "id,name,town,country_code\n1,ILL,Grenoble,FR\n",
    "user.csv": (
        "id,first_name,last_name,email,affiliation_id,instance_quota,activated_at\n"
        "1001,Ada,Lovelace,ada@x.org,1,2,2021-06-01 09:30:00.000000\n"
        '1002,"Turing, Alan",Turing,,,5,\n'
    ),
    "instrument.csv": "id,name\n10,D11\n",
    "cycle.csv": "id,name,start_date,end_date\n1,2021-1,,\n",
    "proposal.csv": "id,identifier,title\n500,1-01-100,Soft matter\n",
    "experiment.csv": (
        "id,proposal_id,instrument_id,start_date,end_date\n"
        "E1,500,10,2021-06-01 00:00:00.000000,2021-06-03 00:00:00.000000\n"
    ),
    "experiment_user.csv": "experiment_id,user_id\nE1,1001\nE1,1002\n",
    "staff_user.csv": "user_id\n1001\n",
    "it_support_user.csv": "user_id\n1002\n",
    "instrument_control_user.csv": "user_id\n",
    "scientific_computing_user.csv": "user_id\n",
    "instrument_scientist.csv": "instrument_id,user_id\n10,1001\n",
}


async def test_the_reference_python_etl_csv_layout_is_accepted(
    etl_engine: AsyncEngine, tmp_path: Path
) -> None:
    for name, content in REFERENCE_LAYOUT.items():
        (tmp_path / name).write_text(content)
    report = await run(etl_engine, files_source(tmp_path))
    assert report.rejected == 0, [str(r) for k in report.kinds for r in k.rejections]
    assert counts(report, "user") == (2, 0, 0, 0)
    assert await rows(
        etl_engine, "SELECT id, first_name, affiliation_id, instance_quota FROM users ORDER BY id"
    ) == [("1001", "Ada", 1, 2), ("1002", "Turing, Alan", None, 5)]
    roles = await rows(
        etl_engine,
        "SELECT ur.user_id, r.name FROM user_role ur JOIN role r ON r.id = ur.role_id "
        "ORDER BY ur.user_id, r.name",
    )
    assert roles == [
        ("1001", "INSTRUMENT_SCIENTIST"),
        ("1001", "STAFF"),
        ("1002", "IT_SUPPORT"),
    ]
    assert await rows(etl_engine, "SELECT count(*) FROM experiment WHERE start_date IS NULL") == [
        (0,)
    ]


async def test_malformed_lines_are_rejected_with_file_and_line(
    etl_engine: AsyncEngine, tmp_path: Path
) -> None:
    (tmp_path / "employer.jsonl").write_bytes(
        b'{"id": 1, "name": "ILL"}\n'
        b'{"id": 2, "name": \n'
        b"\n"
        b"[3]\n"
        b'{"id": 4, "name": "caf\xe9"}\n'
        b'{"id": 5, "name": "Caf\xc3\xa9"}\n'
    )
    (tmp_path / "instrument.csv").write_bytes(
        b'\xef\xbb\xbfid,name\n10,D11\n11\n12,"IN\n5"\n13,\xff\n14,"D"x\n15,D22\n'
    )
    report = await run(etl_engine, files_source(tmp_path))
    employer = [str(r) for r in report.kind("employer").rejections]
    assert employer == [
        "employer.jsonl:2: not valid JSON: Expecting value (column 19)",
        "employer.jsonl:4: expected a JSON object, found list",
        "employer.jsonl:5: not valid utf-8: invalid continuation byte at byte 23 of the line",
    ]
    instrument = [str(r) for r in report.kind("instrument").rejections]
    assert instrument == [
        "instrument.csv:3: expected 2 fields, found 1",
        "instrument.csv:6: not valid utf-8: invalid start byte at byte 4 of the line",
        "instrument.csv:7: malformed CSV: ',' expected after '\"'",
    ]
    assert await rows(etl_engine, "SELECT id, name FROM instrument ORDER BY id") == [
        (10, "D11"),
        (12, "IN\n5"),
        (15, "D22"),
    ]
    assert await rows(etl_engine, "SELECT name FROM employer ORDER BY id") == [("ILL",), ("Café",)]


def test_configuration_problems_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        files_source(tmp_path / "nowhere")
    with pytest.raises(SourceError, match="unknown option"):
        files_source(tmp_path, directroy="x")
    with pytest.raises(SourceError, match="no record files"):
        files_source(tmp_path)
    (tmp_path / "user.csv").write_text("id,last_name\n")
    (tmp_path / "user.jsonl").write_text("")
    with pytest.raises(SourceError, match=r"both user\.csv and user\.jsonl"):
        files_source(tmp_path)
    assert files_source(tmp_path, format="csv").kinds() == [Kind.USER]
    (tmp_path / "people.txt").write_text("")
    with pytest.raises(SourceError, match=r"files\.user: .*people\.txt"):
        files_source(tmp_path, files={"user": "people.txt"})
    (tmp_path / "bad.csv").write_text("id,id\n")
    source = files_source(tmp_path, files={"employer": "bad.csv"}, format="jsonl")
    with pytest.raises(SourceError, match=r"bad\.csv:1: column 'id' appears twice"):
        list(source.records(Kind.EMPLOYER))


async def test_other_encodings_and_delimiters(etl_engine: AsyncEngine, tmp_path: Path) -> None:
    (tmp_path / "employer.csv").write_bytes("id;name\n1;Universität\n".encode("latin-1"))
    report = await run(etl_engine, files_source(tmp_path, encoding="latin-1", delimiter=";"))
    assert counts(report, "employer") == (1, 0, 0, 0)
    assert await rows(etl_engine, "SELECT name FROM employer") == [("Universität",)]
