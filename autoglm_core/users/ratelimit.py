"""Per-caller token buckets: `per_minute` calls a minute, with bursts of up to `per_minute` calls."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

# Buckets of callers not seen for a while are dropped, oldest first, past this many.
MAX_BUCKETS = 100_000


class Limiter(Protocol):
    """What admission needs of a rate limiter (this in-memory one, or the shared one in PostgreSQL)."""

    per_minute: int

    @property
    def enabled(self) -> bool: ...

    async def take(self, key: str) -> float: ...


class RateLimiter:
    """A token bucket per key, refilled continuously; in memory, so per server process."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate_per_s = per_minute / 60
        self._clock = clock
        # key -> (tokens, last refill time); ordered by last use for eviction.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    async def take(self, key: str) -> float:
        """acquire() for callers that also accept the shared limiter (whose calls are awaited)."""
        return self.acquire(key)

    def acquire(self, key: str) -> float:
        """Takes one token: returns 0 when the call may proceed, else seconds until it may retry."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        capacity = float(self.per_minute)
        tokens, last = self._buckets.pop(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self._rate_per_s)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._rate_per_s
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait
