"""The Guacamole wire format: encoding, whole-instruction scanning, parsing."""

from __future__ import annotations

import pytest

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
