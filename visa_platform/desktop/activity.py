"""Desktop input bookkeeping for one client (spec §1.9 steps 4 and 6), throttled to 15 s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from visa_platform.desktop.protocol import InstructionKind
from visa_platform.domain.enums import InstanceActivityType

THROTTLE = timedelta(seconds=15)

_TYPES = {
    InstructionKind.MOUSE: InstanceActivityType.MOUSE,
    InstructionKind.KEYBOARD: InstanceActivityType.KEYBOARD,
}


def merge(pending: InstanceActivityType | None, seen: InstanceActivityType) -> InstanceActivityType:
    """MOUSE + KEYBOARD -> MOUSE_AND_KEYBOARD; otherwise the union of the two."""
    if pending is None or pending is seen:
        return seen
    return InstanceActivityType.MOUSE_AND_KEYBOARD


@dataclass(frozen=True)
class ActivityUpdate:
    """What to write now: ``activity`` is ``None`` when there was no input since the last write."""

    now: datetime
    last_interaction_at: datetime
    activity: InstanceActivityType | None


class ActivityTracker:
    """Mouse and keyboard seen from one client, and when the database should hear of it."""

    def __init__(self, connected_at: datetime, max_inactivity: timedelta) -> None:
        self.last_interaction_at = connected_at
        self.pending: InstanceActivityType | None = None
        self.max_inactivity = max_inactivity
        self._last_update: datetime | None = None

    def observe(self, kind: InstructionKind, now: datetime) -> None:
        """Count mouse and keyboard instructions (even those dropped later for the role)."""
        seen = _TYPES.get(kind)
        if seen is not None:
            self.pending = merge(self.pending, seen)
            self.last_interaction_at = now

    def inactive(self, now: datetime) -> bool:
        """No mouse or keyboard for ``VISA_VDI_MAX_SESSION_INACTIVITY_TIME_MINUTES``."""
        return now - self.last_interaction_at >= self.max_inactivity

    def due(self, now: datetime) -> ActivityUpdate | None:
        """The update to write when 15 s have passed since the last one (or none yet)."""
        if self._last_update is not None and now - self._last_update < THROTTLE:
            return None
        self._last_update = now
        update = ActivityUpdate(now, self.last_interaction_at, self.pending)
        self.pending = None
        return update


__all__ = ["THROTTLE", "ActivityTracker", "ActivityUpdate", "merge"]
