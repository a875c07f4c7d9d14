"""Process helpers of the local backend that need no X server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from visa_local import processes


def unused_display() -> int:
    display = 4000
    while Path(f"/tmp/.X{display}-lock").exists() or not processes.display_free(display):
        display += 1
    return display


def released(display: int, within: float) -> bool:
    return asyncio.run(processes.display_released(display, within))


def test_a_display_is_released_only_once_its_lock_holder_is_reaped() -> None:
    """A killed X server of ours is a zombie until reaped; its display is not free before."""
    display = unused_display()
    lock = Path(f"/tmp/.X{display}-lock")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        lock.write_text(f"{child.pid:10d}\n")
        for _ in range(500):  # the child exits and stays a zombie: nobody waits for it yet
            if processes._zombie(child.pid):
                break
            time.sleep(0.01)
        assert not released(display, within=0.2)
        child.wait()
        assert released(display, within=0.2)
    finally:
        child.wait()
        lock.unlink(missing_ok=True)
    assert released(display, within=0)  # no lock at all
