"""Progress reporting seam: the loader tells, the CLI draws a bar (or nothing happens)."""

from __future__ import annotations

from typing import Protocol

from visa_platform.etl.kinds import Kind


class Progress(Protocol):
    """Told as records of each kind are read; ``total`` is the source's size hint or ``None``."""

    def begin(self, kind: Kind, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    """Reports nothing (scheduled runs, tests)."""

    def begin(self, kind: Kind, total: int | None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def end(self) -> None:
        pass
