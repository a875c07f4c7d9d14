"""Logging set-up shared by the ``visa`` command and server worker processes."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# Libraries whose INFO chatter says nothing an operator needs.
QUIET = {
    "alembic.runtime.plugins": logging.WARNING,
    "stevedore": logging.ERROR,  # we report plugin load failures ourselves
}


def configure_logging(level: int = logging.INFO) -> None:
    """Log to standard error in one ``key=value``-friendly format; our loggers at ``level``.

    Does nothing to the root handlers if the process already configured logging (e.g. an
    embedding application), so it is safe to call from every entry point.
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format=FORMAT)
    for name, quiet_level in QUIET.items():
        logging.getLogger(name).setLevel(quiet_level)
    for name in ("visa_platform", "visa"):
        logging.getLogger(name).setLevel(level)
