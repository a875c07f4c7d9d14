"""Pagination of the admin API (spec/api.md §5.2): bounds and ``PageInfo``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from visa_platform.domain.errors import BadRequest


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int | None


def page_of(pagination: dict[str, Any] | None, maximum: int | None) -> Page:
    """A validated page. A missing limit is the query's maximum (unbounded queries: all rows)."""
    pagination = pagination or {}
    offset = pagination.get("offset") or 0
    limit = pagination.get("limit")
    if offset < 0:
        raise BadRequest("pagination offset must be 0 or more")
    if limit is None:
        return Page(offset, maximum)
    if limit < 0 or (maximum is not None and limit > maximum):
        bound = f"0..{maximum}" if maximum is not None else "0 or more"
        raise BadRequest(f"pagination limit must be {bound}")
    return Page(offset, limit)


def page_info(total: int, page: Page) -> dict[str, Any]:
    """``PageInfo`` of one page of ``total`` rows."""
    limit = page.limit if page.limit is not None else max(total - page.offset, 0)
    if limit > 0:
        current = page.offset // limit + 1
        pages = -(-total // limit)
    else:
        current, pages = 1, 0
    has_next = page.offset + limit < total
    has_prev = page.offset > 0
    return {
        "currentPage": current,
        "totalPages": pages,
        "count": total,
        "offset": page.offset,
        "limit": limit,
        "hasNextPage": has_next,
        "hasPrevPage": has_prev,
        "nextPage": current + 1 if has_next else None,
        "prevPage": current - 1 if has_prev and current > 1 else None,
    }


def connection(rows: list[Any], total: int, page: Page) -> dict[str, Any]:
    return {"pageInfo": page_info(total, page), "data": rows}
