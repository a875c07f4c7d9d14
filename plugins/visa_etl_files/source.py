"""The ``files`` source: a directory with one JSON Lines or CSV file per kind.

Files are found by name: ``<kind>.jsonl`` or ``<kind>.csv`` (``user.csv``, ``experiment.jsonl``
...), plus the role files of VISA's reference Python ETL (``staff_user.csv``,
``instrument_control_user.csv``, ``it_support_user.csv``, ``scientific_computing_user.csv``: one
``user_id`` column, the role given by the file name). ``files`` in the options names files
explicitly. docs/etl.md has the formats.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from visa_etl_files.readers import count_lines, read_csv, read_jsonl
from visa_platform.etl import Kind, Record, SourceContext, SourceError

log = logging.getLogger("visa_etl_files")

EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
ROLE_FILES = {
    "staff_user": "STAFF",
    "instrument_control_user": "INSTRUMENT_CONTROL",
    "it_support_user": "IT_SUPPORT",
    "scientific_computing_user": "SCIENTIFIC_COMPUTING",
}
"""Reference-layout files that give one role to each listed user."""
IGNORED = {"cycle"}  # an old reference-layout table VISA no longer has
OPTIONS = {"directory", "format", "encoding", "delimiter", "files"}
FORMATS = {"auto", "csv", "jsonl"}


class DataFile:
    """One file of records: its path, format and (for role files) the role it gives."""

    def __init__(self, path: Path, fmt: str, role: str | None = None) -> None:
        self.path = path
        self.format = fmt
        self.role = role


class FilesSource:
    """Reads the files of a directory; see the module docstring."""

    def __init__(self, context: SourceContext) -> None:
        options = dict(context.options)
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise SourceError(
                f"source {context.name}: unknown option(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(OPTIONS))})"
            )
        if "directory" not in options:
            raise SourceError(f"source {context.name}: `directory` is required")
        self.name = context.name
        self.directory = context.path(str(options["directory"]))
        self.format = str(options.get("format", "auto"))
        self.encoding = str(options.get("encoding", "utf-8"))
        self.delimiter = str(options.get("delimiter", ","))
        if self.format not in FORMATS:
            raise SourceError(f"source {self.name}: format must be one of auto, csv, jsonl")
        if len(self.delimiter) != 1:
            raise SourceError(f"source {self.name}: delimiter must be one character")
        try:
            "".encode(self.encoding)
        except LookupError:
            raise SourceError(f"source {self.name}: unknown encoding {self.encoding!r}") from None
        if not self.directory.is_dir():
            raise SourceError(f"source {self.name}: directory {self.directory} does not exist")
        explicit = options.get("files", {})
        if not isinstance(explicit, Mapping):
            raise SourceError(f"source {self.name}: `files` must be a table of kind = file name")
        self._files = self._discover(explicit)
        if not self._files:
            raise SourceError(
                f"source {self.name}: no record files in {self.directory} "
                "(expected names such as user.csv or experiment.jsonl; see docs/etl.md)"
            )

    def _discover(self, explicit: Mapping[str, Any]) -> dict[Kind, list[DataFile]]:
        found: dict[Kind, list[DataFile]] = {}
        for kind_name, file_name in explicit.items():
            try:
                kind = Kind(kind_name)
            except ValueError:
                raise SourceError(
                    f"source {self.name}: files: unknown kind {kind_name!r}"
                ) from None
            path = self.directory / str(file_name)
            fmt = EXTENSIONS.get(path.suffix.lower())
            if fmt is None or not path.is_file():
                raise SourceError(
                    f"source {self.name}: files.{kind_name}: {path} is not a .csv/.jsonl file"
                )
            found[kind] = [DataFile(path, fmt)]
        for path in sorted(self.directory.iterdir()):
            fmt = EXTENSIONS.get(path.suffix.lower())
            if fmt is None or not path.is_file() or self.format not in ("auto", fmt):
                continue
            stem = path.stem
            if stem in ROLE_FILES:
                if Kind.USER_ROLE.value not in explicit:
                    found.setdefault(Kind.USER_ROLE, []).append(
                        DataFile(path, fmt, ROLE_FILES[stem])
                    )
                continue
            try:
                kind = Kind(stem)
            except ValueError:
                if stem not in IGNORED:
                    log.warning("source=%s file=%s outcome=ignored (not a kind)", self.name, path)
                continue
            if kind.value in explicit:
                continue
            plain = [f for f in found.get(kind, []) if f.role is None]
            if plain:
                raise SourceError(
                    f"source {self.name}: both {plain[0].path.name} and {path.name} hold "
                    f"{kind} records; keep one (or set format)"
                )
            found.setdefault(kind, []).append(DataFile(path, fmt))
        return found

    def kinds(self) -> list[Kind]:
        return list(self._files)

    def files(self, kind: Kind) -> list[Path]:
        return [f.path for f in self._files.get(kind, [])]

    def size_hint(self, kind: Kind) -> int:
        total = 0
        for data in self._files.get(kind, []):
            lines = count_lines(data.path)
            total += lines - 1 if data.format == "csv" and lines else lines
        return total

    def records(self, kind: Kind) -> Iterator[Record]:
        """Blocking reads: the loader pulls this in a worker thread."""
        for data in self._files.get(kind, []):
            display = data.path.name
            if not data.path.is_file():
                raise SourceError(f"source {self.name}: {data.path} disappeared")
            extra = {"role": data.role} if data.role else None
            if data.format == "jsonl":
                yield from read_jsonl(data.path, display, self.encoding, extra)
            else:
                yield from read_csv(data.path, display, self.encoding, self.delimiter, extra)
