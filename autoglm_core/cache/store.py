"""Compressed entries in memory: bounded by bytes, least recently used out first, each with a TTL.

cachetools' TTLCache does the bounding, the LRU order and the expiry; this adds the model version
an entry belongs to (so loading, promoting or rolling back a version can drop its entries) and
the counts the metrics report. Used from the event loop only; `stats` may be read from another
thread (a metrics scrape): it copies plain numbers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

# Bytes counted per entry besides its compressed value: key, tags and bookkeeping.
ENTRY_OVERHEAD = 256


@dataclass(frozen=True)
class Entry:
    packed: bytes
    raw_size: int
    model: str
    version: str
    completion_tokens: int

    @property
    def size(self) -> int:
        return len(self.packed) + ENTRY_OVERHEAD


@dataclass(frozen=True)
class CacheStats:
    """Counters since start, and what the cache holds now."""

    hits: int
    misses: int
    bypasses: int
    stores: int
    evictions: int
    invalidations: int
    entries: int
    bytes: int
    raw_bytes: int

    @property
    def ratio(self) -> float:
        """Uncompressed over compressed bytes of the entries held (1.0 when empty)."""
        packed = self.bytes - self.entries * ENTRY_OVERHEAD
        return self.raw_bytes / packed if packed > 0 else 1.0


class _Entries(TTLCache[str, Entry]):
    """TTLCache that tells its owner which entries it evicted to make room."""

    def __init__(self, owner: EntryStore, max_bytes: int, ttl_s: float, timer: Callable[[], float]) -> None:
        super().__init__(maxsize=max_bytes, ttl=ttl_s, timer=timer, getsizeof=_size)
        self._owner = owner

    def popitem(self) -> tuple[str, Entry]:
        key, entry = super().popitem()
        self._owner.forgot(entry, evicted=True)
        return key, entry

    def expire(self, time: Any = None) -> Any:
        expired = super().expire(time)
        for _key, entry in expired:
            self._owner.forgot(entry, evicted=False)
        return expired


def _size(entry: Entry) -> int:
    return entry.size


class EntryStore:
    """Keyed compressed entries within `max_bytes`, each living at most `ttl_s` seconds."""

    def __init__(self, max_bytes: int, ttl_s: float, timer: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries = _Entries(self, max(max_bytes, 1), ttl_s, timer)
        self._raw_bytes = 0
        self.hits = self.misses = self.bypasses = self.stores = self.evictions = self.invalidations = 0

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry: Entry | None = self._entries.get(key)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, key: str, entry: Entry) -> bool:
        """Stores an entry (False: larger than the whole cache, not stored)."""
        if entry.size > self.max_bytes:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._raw_bytes -= old.raw_size
            self._entries[key] = entry  # evicts least recently used entries until it fits
            self._raw_bytes += entry.raw_size
            self.stores += 1
        return True

    def invalidate(self, model: str, version: str | None = None) -> int:
        """Drops the entries of a model's version (None: of all its versions); returns how many."""
        with self._lock:
            doomed = [
                key
                for key, entry in self._entries.items()
                if entry.model == model and (version is None or entry.version == version)
            ]
            for key in doomed:
                self._raw_bytes -= self._entries.pop(key).raw_size
            self.invalidations += len(doomed)
        return len(doomed)

    def forgot(self, entry: Entry, evicted: bool) -> None:
        """Called (under the lock) when the TTLCache drops an entry itself."""
        self._raw_bytes -= entry.raw_size
        if evicted:
            self.evictions += 1

    def stats(self) -> CacheStats:
        with self._lock:
            self._entries.expire()
            return CacheStats(
                hits=self.hits,
                misses=self.misses,
                bypasses=self.bypasses,
                stores=self.stores,
                evictions=self.evictions,
                invalidations=self.invalidations,
                entries=len(self._entries),
                bytes=int(self._entries.currsize),
                raw_bytes=self._raw_bytes,
            )
