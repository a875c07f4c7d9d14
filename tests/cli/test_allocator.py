"""``visa serve`` keeps large freed blocks in the process: frames stop costing page faults."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from visa_platform.cli.allocator import TRIM_THRESHOLD, tune_allocator

# Frames as the relay makes them: a few 256 KiB blocks alive at once, then freed, many times.
CHURN = """
import resource, sys
from visa_platform.cli.allocator import tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
frames = [bytearray(256 * 1024) for _ in range(4)]  # warm up
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(2000):
    text = bytes(frames[i % 4])
    copies = [bytearray(text), bytearray(text), text + b"x"]
    del text, copies
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", CHURN, mode], env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tuned_frames_reuse_their_memory() -> None:
    untuned, tuned = page_faults("plain"), page_faults("tuned")
    assert untuned > 100_000  # about 64 faults for each fresh 256 KiB block (here 448,000)
    assert tuned < untuned / 20


def test_the_operators_values_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    tune_allocator()
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == "131072"
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == str(TRIM_THRESHOLD)  # for the workers
