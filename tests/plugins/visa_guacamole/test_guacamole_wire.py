"""The Guacamole wire format: encoding, whole-instruction scanning, parsing."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from visa_guacamole import wire
from visa_guacamole.wire import InstructionScanner, WireError, encode, parse, split


def test_encode_counts_code_points() -> None:
    assert encode("size", 0, 1024, 768) == "4.size,1.0,4.1024,3.768;"
    assert encode("", "ping", 12) == "0.,4.ping,2.12;"
    assert encode("clipboard", "é😀") == "9.clipboard,2.é😀;"


def test_parse_and_split() -> None:
    text = encode("mouse", 1, 2, 0) + encode("key", 65, 1)
    assert split(text) == [encode("mouse", 1, 2, 0), encode("key", 65, 1)]
    assert parse(encode("key", "é😀", 1)) == ["key", "é😀", "1"]
    for bad in ("3.key", "x.key;", "3.key!", "3.key;junk", "9.key;"):
        with pytest.raises(WireError):
            parse(bad)


def test_scanner_returns_whole_instructions_only() -> None:
    stream = encode("img", 1, 14, 0, "image/png", 0, 0) + encode("blob", 1, "A" * 5000)
    stream += encode("end", 1) + encode("sync", 99)
    scanner = InstructionScanner()
    out = []
    for i in range(0, len(stream), 7):  # arbitrary cuts, inside lengths and values too
        got = scanner.feed(stream[i : i + 7])
        if got:
            assert got.endswith(";")
            assert "".join(split(got)) == got
        out.append(got)
    assert "".join(out) == stream
    assert scanner.pending == 0


def test_scanner_refuses_garbage_and_overlong_instructions() -> None:
    with pytest.raises(WireError):
        InstructionScanner().feed("4.size;x.y;")
    with pytest.raises(WireError):
        InstructionScanner().feed("3.abc?")
    with pytest.raises(WireError):
        InstructionScanner().feed("1234567890123456")  # no dot within a sane length
    with pytest.raises(WireError):
        InstructionScanner(max_instruction=100).feed("5000." + "a" * 200)


# -- scan(): the relay's scanner, in C and in Python -------------------------------------------

SCANNERS = [pytest.param(wire._scan_python, id="python")] + (
    [pytest.param(wire._scan_c, id="c")] if wire._scan_c is not None else []
)


def random_stream(rng: random.Random, count: int) -> str:
    """Instructions with ASCII, accented and astral values, empty ones and long ones."""
    alphabet = "abcXYZ019.,;é€😀 "
    out = []
    for _ in range(count):
        values = [
            "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 40, 3000])))
            for _ in range(rng.randint(0, 4))
        ]
        out.append(encode(rng.choice(["blob", "img", "", "sync", "clipboard"]), *values))
    return "".join(out)


def test_the_c_scanner_is_built_and_used() -> None:
    """``pip install -e .`` builds it with gcc; without one the Python copy only costs speed
    (skipped then, failed where ``VISA_TEST_REQUIRE_SYSTEM=1`` as in CI)."""
    if wire._scan_c is None:
        if os.environ.get("VISA_TEST_REQUIRE_SYSTEM") == "1":
            pytest.fail("visa_guacamole._scan is not built: pip install -e . needs gcc")
        pytest.skip("visa_guacamole._scan is not built (no C compiler)")
    assert wire.scan is wire._scan_c


@pytest.mark.parametrize("scan", SCANNERS)
def test_scan_finds_every_boundary_at_any_cut(scan: Any) -> None:
    rng = random.Random(6)
    data = random_stream(rng, 300).encode()
    boundaries = {0}
    position = 0
    for instruction in split(data.decode()):
        position += len(instruction.encode())
        boundaries.add(position)
    start = last = 0
    for _ in range(400):
        end = rng.randint(start, len(data))
        complete, start = scan(data, start, end)
        assert complete == -1 or complete in boundaries
        last = max(last, complete)
        # every instruction lying whole in data[:end] was read, and no more
        assert last == max(b for b in boundaries if b <= end)
        assert last <= start <= end
    complete, start = scan(data, start, len(data))
    assert max(last, complete) == start == len(data)


@pytest.mark.parametrize("scan", SCANNERS)
@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"4.size;x.y;", "bad element length"),
        (b"3.abc?", "bad element terminator"),
        (b"123456789012.", "bad element length"),  # 12 digits
        (b".abc;", "bad element length"),
        (b"1.\xff;", "not UTF-8"),
        (b"+1.a;", "bad element length"),
        (b"1_0.aaaaaaaaaa;", "bad element length"),
    ],
)
def test_scan_refuses_what_is_not_an_instruction_stream(scan: Any, data: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        scan(data, 0, len(data))


@pytest.mark.parametrize("scan", SCANNERS)
def test_scan_waits_for_what_may_still_come(scan: Any) -> None:
    assert scan(b"12345678901", 0, 11) == (-1, 0)  # 11 digits: the dot may follow
    assert scan(b"4.size,2.\xc3\xa9", 0, 11) == (-1, 7)  # 'é' is one of two code points
    assert scan(b"4.size,1.\xe2\x82", 0, 11) == (-1, 7)  # half of a code point
    assert scan(b"4.size,1.\xe2\x82\xac;", 0, 13) == (13, 13)
    assert scan(bytearray(b"xx3.end;"), 2, 8) == (8, 8)  # from an offset, any buffer


def test_c_and_python_scanners_agree_on_random_input() -> None:
    if wire._scan_c is None:
        pytest.skip("the C scanner is not built")
    rng = random.Random(7)
    for _ in range(3000):
        data = bytes(rng.choice(b"0123456789.,;a\xc3\xa9\xff") for _ in range(rng.randint(0, 30)))
        answers = []
        for scan in (wire._scan_c, wire._scan_python):
            try:
                answers.append(scan(data, 0, len(data)))
            except ValueError as exc:
                answers.append(str(exc))
        assert answers[0] == answers[1], data
