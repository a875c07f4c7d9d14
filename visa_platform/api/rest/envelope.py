"""VISA's response envelope (``MetaResponse``): ``data``, and ``_metadata``/``errors`` if set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    """A page of a paginated listing: ``_metadata`` is ``{count, page, limit}``."""

    count: int
    page: int
    limit: int


def envelope(
    data: Any, *, page: Page | None = None, errors: list[str] | None = None
) -> dict[str, Any]:
    """Wrap ``data``; ``_metadata`` and ``errors`` appear only when given (as in the original)."""
    body: dict[str, Any] = {"data": data}
    if page is not None:
        body["_metadata"] = {"count": page.count, "page": page.page, "limit": page.limit}
    if errors is not None:
        body["errors"] = errors
    return body
