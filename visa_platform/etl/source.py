"""The ETL source contract: what a registered source factory returns and how records come out.

A plugin registers a factory with ``register.add(type_id, factory)`` in
``visa_register_etl_sources``. The host calls ``factory(context)`` with a :class:`SourceContext`
(the source's name and its table from the ETL configuration) and gets an :class:`EtlSource`:

* ``kinds()`` names the kinds the source supplies. Only those are loaded, and only those may have
  absent records removed (a source without employers never removes employers).
* ``records(kind)`` yields that kind's records, streamed: an async iterable, or a plain iterable
  that the host pulls in a worker thread (so blocking reads are fine there). Each item is a
  :class:`Record` (fields + where it came from) or a plain mapping of fields.
* ``size_hint(kind)`` (optional) is the expected number of records, for the progress bar.
* ``aclose()`` (optional) releases connections and files; it is awaited after the run.

See docs/etl.md for the fields of each kind and the value rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from visa_platform.etl.kinds import Kind


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a kind: ``fields`` by column name, and ``origin`` for error messages.

    ``origin`` says where the record came from, e.g. ``user.csv:12`` or ``uo-db user[id=1001]``.
    A source that cannot read a record (a malformed line, bad encoding) still yields it, with
    ``problem`` saying why: it is then reported as rejected.
    """

    fields: Mapping[str, Any]
    origin: str
    problem: str | None = None


RecordStream = AsyncIterable[Record | Mapping[str, Any]] | Iterable[Record | Mapping[str, Any]]


class SourceError(Exception):
    """A source cannot be built or read (bad configuration, missing file, unreachable database).

    The run stops and nothing is written; the message names the source and the problem.
    """


@dataclass(frozen=True)
class SourceContext:
    """What a source factory receives.

    ``name`` is the source's name in the configuration (or its type id), ``options`` its table
    (without ``type``), ``base_dir`` the directory relative paths are resolved against (that of the
    configuration file).
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)

    def path(self, value: str | Path) -> Path:
        """``value`` resolved against :attr:`base_dir`."""
        return (self.base_dir / Path(value).expanduser()).resolve()


@runtime_checkable
class EtlSource(Protocol):
    """A source of facility records (see the module docstring)."""

    def kinds(self) -> Collection[Kind]:
        """The kinds this source supplies."""
        ...

    def records(self, kind: Kind) -> RecordStream:
        """The records of ``kind``, streamed, in the source's order."""
        ...
