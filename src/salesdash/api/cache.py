"""A small thread-safe LRU cache for API results.

Keys always start with the data version, so a data refresh (which creates a new version) makes every old
entry unreachable at once; old entries then age out of the LRU. Nothing is ever invalidated by time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class LRUCache:
    """Least-recently-used cache of at most ``size`` entries (0 disables caching) and, when ``max_bytes`` is
    given, at most that many bytes in all (each ``put`` says how big its value is)."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, *, count_miss: bool = True) -> Any | None:
        """The value under ``key`` or None; ``count_miss=False`` for a first look whose miss is followed by
        another look in the same cache (the front cache's, api/front.py), so one request is one miss."""
        with self._lock:
            try:
                value, _ = self._items[key]
            except KeyError:
                if count_miss:
                    self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: Any, nbytes: int = 0) -> None:
        if self.size <= 0 or (self.max_bytes is not None and nbytes > self.max_bytes):
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, nbytes)
            self._bytes += nbytes
            while len(self._items) > self.size or (
                self.max_bytes is not None and self._bytes > self.max_bytes
            ):
                _, (_, freed) = self._items.popitem(last=False)
                self._bytes -= freed

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def stored_keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._items),
                "size": self.size,
                "bytes": self._bytes,
                "hits": self.hits,
                "misses": self.misses,
            }
