"""A short-lived cache keyed by bearer token (VISA keeps an authentication 30 s; failures never)."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

TTL_SECONDS = 30.0
MAX_ENTRIES = 10_000

T = TypeVar("T")


class TokenCache(Generic[T]):
    """Values remembered for ``ttl`` seconds per exact token, least recently used evicted first.

    Keys are SHA-256 digests, so the cache never holds a bearer token.
    """

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, T]] = OrderedDict()

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> T | None:
        key = self._key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, token: str, value: T) -> None:
        self._entries[self._key(token)] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(self._key(token))
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
