"""Tests that need system programs (TigerVNC, Chromium ...): skipped on a machine without them,
failed instead when ``VISA_TEST_REQUIRE_SYSTEM=1`` (``.ci/run`` sets it, after installing them),
so that a missing package can never hide a test in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def needs(*programs: str, packages: str) -> pytest.MarkDecorator:
    """A mark for tests that run ``programs`` (from the Debian ``packages``)."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing and os.environ.get("VISA_TEST_REQUIRE_SYSTEM") == "1":
        raise RuntimeError(f"missing {', '.join(missing)}: apt-get install {packages}")
    return pytest.mark.skipif(bool(missing), reason=f"needs apt-get install {packages}")


__all__ = ["needs"]
