"""What a run did, per kind: the counts of the summary table and the first rejection reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from visa_platform.etl.kinds import Kind


@dataclass(frozen=True, order=True)
class Rejection:
    """A record that was not loaded: where it came from and why (``seq`` orders reports)."""

    seq: int
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass
class KindReport:
    """Counts for one kind. ``removed``/``kept`` are filled only when removal was asked for.

    ``kept`` counts records absent from the source that could not be removed because VISA still
    references them (an instance's experiment, a member of an instance ...).
    """

    kind: Kind
    supplied: bool = False
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    removed: int = 0
    kept: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RunReport:
    """The outcome of one run; ``committed`` is false for a dry run or an aborted run."""

    source: str
    dry_run: bool
    prune: bool
    kinds: list[KindReport]
    committed: bool = False
    aborted: str | None = None
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return sum(k.rejected for k in self.kinds)

    def kind(self, kind: Kind | str) -> KindReport:
        return next(k for k in self.kinds if k.kind == kind)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary (``visa etl run --json``)."""
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "prune": self.prune,
            "committed": self.committed,
            "aborted": self.aborted,
            "seconds": round(self.seconds, 3),
            "kinds": [
                {
                    "kind": k.kind.value,
                    "supplied": k.supplied,
                    "received": k.received,
                    "created": k.created,
                    "updated": k.updated,
                    "unchanged": k.unchanged,
                    "rejected": k.rejected,
                    "removed": k.removed,
                    "kept": k.kept,
                    "rejections": [{"origin": r.origin, "reason": r.reason} for r in k.rejections],
                    "notes": list(k.notes),
                }
                for k in self.kinds
            ],
        }
