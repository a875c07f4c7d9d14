"""The Redis of the tests (``VISA_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/0``).

Tests that need it are skipped when it cannot be reached, and fail instead when
``VISA_TEST_REQUIRE_SYSTEM=1`` (CI, where Redis runs), as :mod:`visa_platform.testing.system`
does for programs. Each test uses its own pub/sub channel (:func:`fresh_channel`): several test
runs (and deployments) may share one Redis.
"""

from __future__ import annotations

import os
import uuid

import pytest


def redis_url() -> str:
    return os.environ.get("VISA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable() -> str | None:
    """Why Redis cannot be used, or ``None`` when it answers PING."""
    try:
        import redis
    except ImportError:
        return "needs the redis package (pip install 'visa-platform[redis]')"
    try:
        client = redis.Redis.from_url(redis_url(), socket_connect_timeout=1, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"Redis at {redis_url()} is unreachable: {exc}"
    return None


def needs_redis() -> pytest.MarkDecorator:
    """A mark for tests that use the real Redis."""
    why = _reachable()
    if why is not None and os.environ.get("VISA_TEST_REQUIRE_SYSTEM") == "1":
        raise RuntimeError(why)
    return pytest.mark.skipif(why is not None, reason=why or "")


def fresh_channel() -> str:
    """A pub/sub channel of its own for one test."""
    return f"visa-test-{uuid.uuid4().hex}"


__all__ = ["fresh_channel", "needs_redis", "redis_url"]
