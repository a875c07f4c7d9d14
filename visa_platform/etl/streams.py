"""Pulling a source's records in batches, whether the source is async or blocking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")


async def batches(stream: AsyncIterable[T] | Iterable[T], size: int) -> AsyncIterator[list[T]]:
    """Lists of up to ``size`` items. A plain iterable is pulled in a worker thread."""
    if isinstance(stream, AsyncIterable):
        batch: list[T] = []
        try:
            async for item in stream:
                batch.append(item)
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
        return
    iterator: Iterator[T] = iter(stream)
    try:
        while True:
            chunk = await asyncio.to_thread(_take, iterator, size)
            if not chunk:
                return
            yield chunk
    finally:
        closer_sync: Any = getattr(iterator, "close", None)
        if closer_sync is not None:
            await asyncio.to_thread(closer_sync)


def _take(iterator: Iterator[T], size: int) -> list[T]:
    return list(islice(iterator, size))
