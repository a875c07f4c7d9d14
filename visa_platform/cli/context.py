"""Settings shared by the commands of one ``visa`` invocation (loaded once, on first use)."""

from __future__ import annotations

import functools

from visa_platform.config import Settings, load_settings


@functools.cache
def settings() -> Settings:
    """The effective settings (environment, VISA_CONFIG_FILE); raises ConfigError when wrong."""
    return load_settings()
