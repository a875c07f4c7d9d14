"""Turns the HNS user-office export (one nested JSON document) into VISA's record kinds.

The export is small enough to parse whole; a source for a big user office would stream instead
(see the ``files`` and ``sql`` sources). Parsing runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from visa_platform.etl import Kind, Record, SourceContext, SourceError

SAMPLE = Path(__file__).with_name("sample_export.json")


class HnsExportSource:
    """Options: ``path`` of the export (default: the bundled sample)."""

    def __init__(self, context: SourceContext) -> None:
        self.name = context.name
        path = context.options.get("path")
        self.path = context.path(path) if path else SAMPLE
        if not self.path.is_file():
            raise SourceError(f"source {self.name}: export {self.path} does not exist")
        self._export: dict[str, Any] | None = None

    def kinds(self) -> list[Kind]:
        return list(Kind)

    async def _document(self) -> dict[str, Any]:
        if self._export is None:
            try:
                text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
                self._export = json.loads(text)
            except (OSError, ValueError) as exc:
                raise SourceError(f"source {self.name}: cannot read {self.path}: {exc}") from exc
        return self._export

    async def records(self, kind: Kind) -> AsyncIterator[Record]:
        export = await self._document()
        for fields, where in _MAPPERS[kind](export):
            yield Record(fields, f"{self.path.name} {where}")

    async def aclose(self) -> None:
        self._export = None


Rows = Iterator[tuple[dict[str, Any], str]]


def _employers(export: dict[str, Any]) -> Rows:
    for i, org in enumerate(export.get("institutions", [])):
        yield (
            {
                "id": org.get("no"),
                "name": org.get("name"),
                "town": org.get("city"),
                "country_code": org.get("country"),
            },
            f"institutions[{i}]",
        )


def _users(export: dict[str, Any]) -> Rows:
    for i, person in enumerate(export.get("scientists", [])):
        name = person.get("name", {})
        yield (
            {
                "id": person.get("number"),
                "first_name": name.get("first"),
                "last_name": name.get("last"),
                "email": person.get("mail"),
                "affiliation_id": person.get("institution"),
                "instance_quota": 4 if person.get("staff") else None,
            },
            f"scientists[{i}]",
        )


def _instruments(export: dict[str, Any]) -> Rows:
    for i, beamline in enumerate(export.get("beamlines", [])):
        yield {"id": beamline.get("no"), "name": beamline.get("name")}, f"beamlines[{i}]"


def _proposals(export: dict[str, Any]) -> Rows:
    for i, proposal in enumerate(export.get("proposals", [])):
        yield (
            {
                "id": proposal.get("no"),
                "identifier": proposal.get("code"),
                "title": proposal.get("title"),
                "summary": proposal.get("abstract"),
                "public_at": proposal.get("public_from"),
            },
            f"proposals[{i}]",
        )


def _sessions(export: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], str]]:
    for i, proposal in enumerate(export.get("proposals", [])):
        for j, session in enumerate(proposal.get("sessions", [])):
            yield proposal, session, f"proposals[{i}].sessions[{j}]"


def _experiments(export: dict[str, Any]) -> Rows:
    for proposal, session, where in _sessions(export):
        yield (
            {
                "id": session.get("id"),
                "proposal_id": proposal.get("no"),
                "instrument_id": session.get("beamline"),
                "start_date": session.get("from"),
                "end_date": session.get("to"),
            },
            where,
        )


def _teams(export: dict[str, Any]) -> Rows:
    for _proposal, session, where in _sessions(export):
        for k, member in enumerate(session.get("team", [])):
            yield {"experiment_id": session.get("id"), "user_id": member}, f"{where}.team[{k}]"


def _instrument_scientists(export: dict[str, Any]) -> Rows:
    for i, person in enumerate(export.get("scientists", [])):
        for beamline in person.get("local_contact_for", []):
            yield {"instrument_id": beamline, "user_id": person.get("number")}, f"scientists[{i}]"


def _roles(export: dict[str, Any]) -> Rows:
    for i, person in enumerate(export.get("scientists", [])):
        if person.get("staff"):
            yield {"user_id": person.get("number"), "role": "STAFF"}, f"scientists[{i}]"


_MAPPERS = {
    Kind.EMPLOYER: _employers,
    Kind.USER: _users,
    Kind.INSTRUMENT: _instruments,
    Kind.PROPOSAL: _proposals,
    Kind.EXPERIMENT: _experiments,
    Kind.EXPERIMENT_USER: _teams,
    Kind.INSTRUMENT_SCIENTIST: _instrument_scientists,
    Kind.USER_ROLE: _roles,
}
