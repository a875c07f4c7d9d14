"""The SDL of the admin API, a file of the package (``visa graphql schema`` prints it)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_sdl() -> str:
    """The text of ``schema.graphql``."""
    return resources.files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
