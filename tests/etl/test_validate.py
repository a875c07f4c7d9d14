"""Checking single records (no database): value rules and reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from visa_platform.etl.kinds import SPECS, Kind, parse_kind
from visa_platform.etl.validate import Validator


def check(kind: Kind, fields: dict[str, Any], **options: Any) -> tuple[Any, ...] | str:
    result = Validator(SPECS[kind], **options).check(fields)
    return result.problem if result.problem else result.values


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), ("12", 12), (" 12 ", 12), (12.0, 12), (Decimal("12"), 12)],
)
def test_integers_may_come_as_text_or_integral_numbers(value: Any, expected: int) -> None:
    assert check(Kind.INSTRUMENT, {"id": value, "name": "D11"}) == (expected, "D11")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "id must be an integer, not True"),
        (1.5, "id must be an integer, not 1.5"),
        ("1e3", "id must be an integer, not '1e3'"),
        (float("nan"), "id must be an integer, not nan"),
        (2**63, f"id {2**63} is out of range"),
    ],
)
def test_bad_integers_are_named(value: Any, reason: str) -> None:
    assert str(check(Kind.INSTRUMENT, {"id": value, "name": "D11"})).startswith(reason)


def test_empty_text_is_null_and_ids_may_be_numbers() -> None:
    values = check(Kind.USER, {"id": 1001, "last_name": "Curie", "email": "", "first_name": None})
    assert values == ("1001", None, "Curie", None, None, None, None)


def test_every_problem_of_a_record_is_reported_together() -> None:
    reason = check(Kind.USER, {"id": "7", "last_name": "", "email": "x" * 101, "x": 1})
    assert reason == "last_name is required; email is longer than 100 characters (101)"


def test_nul_characters_are_refused() -> None:
    assert check(Kind.INSTRUMENT, {"id": 1, "name": "a\x00b"}) == "name contains a NUL character"


def test_timestamps_without_offset_are_local_time_of_the_configured_zone() -> None:
    fields = {"id": "E1", "proposal_id": 1, "instrument_id": 2}
    paris = ZoneInfo("Europe/Paris")
    values = check(
        Kind.EXPERIMENT,
        {**fields, "start_date": "2024-07-01 10:00:00.000000", "end_date": date(2024, 7, 2)},
        zone=paris,
    )
    assert isinstance(values, tuple)
    assert values[3] == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
    assert values[4] == datetime(2024, 7, 1, 22, 0, tzinfo=UTC)
    aware = check(
        Kind.EXPERIMENT,
        {**fields, "start_date": "2024-07-01T10:00:00+02:00", "end_date": "2024-07-02T00:00Z"},
        zone=paris,
    )
    assert isinstance(aware, tuple) and aware[3] == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
    bad = check(Kind.EXPERIMENT, {**fields, "start_date": "01/07/2024", "end_date": "x"})
    assert bad == (
        "start_date must be an ISO 8601 timestamp, not '01/07/2024'; "
        "end_date must be an ISO 8601 timestamp, not 'x'"
    )


def test_roles_are_looked_up_by_name() -> None:
    roles = {"STAFF": 2}
    assert check(Kind.USER_ROLE, {"user_id": "1", "role": "STAFF"}, roles=roles) == ("1", 2, None)
    result = Validator(SPECS[Kind.USER_ROLE], roles=roles).check({"user_id": "1", "role": "X"})
    assert result.problem == "unknown role 'X' (known: STAFF)" and not result.key_known


def test_unknown_fields_are_remembered_for_a_note() -> None:
    validator = Validator(SPECS[Kind.INSTRUMENT])
    validator.check({"id": 1, "name": "D11", "cycle_id": 4})
    assert validator.unknown_fields == {"cycle_id"}


def test_kind_names() -> None:
    assert parse_kind("user") is Kind.USER
    with pytest.raises(ValueError, match="unknown record kind 'users'"):
        parse_kind("users")
