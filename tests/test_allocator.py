"""The app keeps large freed blocks in the process: the relay's frames stop costing page faults."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Frames as the relay makes them: a few 1 MiB blocks alive at once, then freed, many times.
CHURN = """
import resource, sys, tempfile
from visa_platform.allocator import tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
if sys.argv[1] == "app":
    from visa_platform.app import create_app
    from visa_platform.config import load_settings
    create_app(load_settings(data_dir=tempfile.mkdtemp()))
frames = [bytearray(1024 * 1024) for _ in range(4)]  # warm up
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(500):
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


GLIBC = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


@GLIBC
def test_tuned_frames_reuse_their_memory() -> None:
    untuned, tuned = page_faults("plain"), page_faults("tuned")
    assert untuned > 100_000  # 256 faults for each fresh 1 MiB block
    assert tuned < untuned / 20


@GLIBC
def test_the_app_tunes_its_process() -> None:
    assert page_faults("app") < page_faults("plain") / 20


@GLIBC
def test_the_operators_values_win() -> None:
    """With the operator's thresholds in the environment, tuning changes nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
    done = subprocess.run(
        [sys.executable, "-c", CHURN, "tuned"], env=env, capture_output=True, text=True, check=True
    )
    assert int(done.stdout) > 100_000
