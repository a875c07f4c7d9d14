"""glibc's allocator, set for a server that moves large buffers (the app applies it).

Each websocket frame the desktop relay sends (up to 1 MiB of whole instructions) is two or three
blocks of that size on its way out: the text decoded from guacd's bytes, its UTF-8 encoding and
the frame. glibc serves blocks that large with ``mmap``, or from the top of its heap which it
trims as soon as a few are free: either way every frame's memory comes back from the kernel as
fresh pages, and at 1 MiB per frame the relay spent more time in page faults than in everything
else (2 ms of CPU per MB relayed instead of 0.8). Fixed thresholds keep such blocks in the heap and
the heap's free top (up to :data:`TRIM_THRESHOLD`) in the process, so frames reuse the same memory.

glibc also reads ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` from the environment
when a process starts: an operator's values there win, and :func:`tune_allocator` leaves them be.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger("visa_platform.allocator")

#: Blocks below this come from the heap, not from their own ``mmap``.
MMAP_THRESHOLD = 16 * 1024 * 1024
#: Free memory at the top of the heap kept rather than given back to the kernel.
TRIM_THRESHOLD = 64 * 1024 * 1024
# mallopt's parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
}


def tune_allocator() -> bool:
    """Apply the thresholds to this process; ``False`` where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    for variable, (parameter, value) in _SETTINGS.items():
        if variable in os.environ:
            continue  # the operator's choice, applied by glibc at start
        if mallopt(parameter, value) != 1:
            log.warning("event=mallopt_refused parameter=%s value=%d", variable, value)
    return True


__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_allocator"]
