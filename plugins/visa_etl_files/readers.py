"""Streaming readers for JSON Lines and CSV files: one :class:`Record` per line or row.

Both read bytes and decode line by line, so that a bad byte sequence rejects only its own record
(with its line number) instead of stopping the run. Every record's origin is ``<file>:<line>``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from visa_platform.etl import Record, SourceError

BOM = "\ufeff"


def read_jsonl(
    path: Path, display: str, encoding: str, extra: Mapping[str, Any] | None = None
) -> Iterator[Record]:
    """One JSON object per line; blank lines are skipped. ``extra`` is added to every record."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            origin = f"{display}:{number}"
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                yield Record({}, origin, _decode_problem(exc, encoding))
                continue
            if number == 1:
                text = text.removeprefix(BOM)
            if not text.strip():
                continue
            try:
                value = json.loads(text.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                yield Record({}, origin, f"not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(value, dict):
                yield Record({}, origin, f"expected a JSON object, found {type(value).__name__}")
                continue
            yield Record({**value, **extra} if extra else value, origin)


def read_csv(
    path: Path,
    display: str,
    encoding: str,
    delimiter: str = ",",
    extra: Mapping[str, Any] | None = None,
) -> Iterator[Record]:
    """A header row naming the fields, then one record per row (quoted fields may span lines).

    ``extra`` fields are added to every record (the reference layout's role files).
    """
    undecodable: dict[int, str] = {}
    with open(path, "rb") as handle:
        reader = csv.reader(_lines(handle, encoding, undecodable), delimiter=delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(f"{display}:1: unreadable header: {exc}") from None
        if 1 in undecodable:
            raise SourceError(f"{display}:1: unreadable header: {undecodable[1]}")
        names = [name.strip() for name in header]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise SourceError(f"{display}:1: column {name!r} appears twice in the header")
            seen.add(name)
        last = reader.line_num
        while True:
            try:
                row = next(reader)
                problem = None
            except StopIteration:
                return
            except csv.Error as exc:
                row, problem = [], f"malformed CSV: {exc}"
            first, last = last + 1, reader.line_num
            origin = f"{display}:{first}"
            bad = [undecodable.pop(n) for n in range(first, last + 1) if n in undecodable]
            if bad:
                yield Record({}, origin, bad[0])
            elif problem is not None:
                yield Record({}, origin, problem)
            elif not row:
                continue  # a blank line
            elif len(row) != len(names):
                yield Record({}, origin, f"expected {len(names)} fields, found {len(row)}")
            else:
                fields: dict[str, Any] = dict(zip(names, row, strict=True))
                if extra:
                    fields.update(extra)
                yield Record(fields, origin)


def _lines(handle: IO[bytes], encoding: str, undecodable: dict[int, str]) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            undecodable[number] = _decode_problem(exc, encoding)
            text = raw.decode(encoding, errors="replace")
        yield text.removeprefix(BOM) if number == 1 else text


def _decode_problem(exc: UnicodeDecodeError, encoding: str) -> str:
    return f"not valid {encoding}: {exc.reason} at byte {exc.start + 1} of the line"


def count_lines(path: Path) -> int:
    """Newlines in ``path`` (plus one for an unterminated last line), read in 1 MiB chunks."""
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (0 if last == b"\n" else 1)
