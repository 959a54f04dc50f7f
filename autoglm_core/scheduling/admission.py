"""Priority admission in front of the backends, after Triton's dynamic-batcher queue policy.

At most `max_running` requests generate at once (a backend batches those); others wait in a
bounded queue ordered by priority (lower number first), then arrival. A full queue refuses at once
with a retry hint, and a waiter whose deadline passes leaves the queue.

`reserved_slots` more slots are kept for the most urgent requests (priority <= `reserved_priority`):
under a saturating bulk load an interactive request still starts at once instead of waiting for a
bulk request to finish. (The transformers backend then lets it into the running batch ahead of the
bulk requests, pausing one if the batch is full.)
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from autoglm_core.errors import DeadlineExceeded, QueueFull


@dataclass(order=True)
class _Waiter:
    priority: int
    sequence: int
    future: asyncio.Future[None] = field(compare=False)


class AdmissionController:
    """Grants generation slots by priority."""

    def __init__(
        self,
        max_running: int = 16,
        max_queue: int = 256,
        queue_timeout_s: float = 30.0,
        reserved_slots: int = 0,
        reserved_priority: int = 0,
    ):
        self.max_running = max_running
        self.max_queue = max_queue
        self.queue_timeout_s = queue_timeout_s
        self.reserved_slots = reserved_slots
        self.reserved_priority = reserved_priority
        self.running = 0
        self._queue: list[_Waiter] = []
        # Waiters neither granted nor gone, per priority; the heap also holds gone ones until they
        # reach its top.
        self._waiting: dict[int, int] = {}
        self._sequence = itertools.count()

    @property
    def queue_depth(self) -> int:
        return sum(self._waiting.values())

    @asynccontextmanager
    async def slot(self, priority: int, deadline: float | None = None) -> AsyncIterator[float]:
        """Waits for a slot; yields the seconds spent waiting. `deadline` is time.monotonic()."""
        started = time.monotonic()
        await self._acquire(priority, deadline)
        try:
            yield time.monotonic() - started
        finally:
            self._release()

    def _limit(self, priority: int) -> int:
        """Slots a request of this priority may fill."""
        urgent = priority <= self.reserved_priority
        return self.max_running + (self.reserved_slots if urgent else 0)

    def _waiting_ahead(self, priority: int) -> bool:
        return any(count for p, count in self._waiting.items() if p <= priority)

    async def _acquire(self, priority: int, deadline: float | None) -> None:
        if self.running < self._limit(priority) and not self._waiting_ahead(priority):
            self.running += 1
            return
        if self.queue_depth >= self.max_queue:
            raise QueueFull(retry_after_s=self._retry_hint())
        waiter = _Waiter(priority, next(self._sequence), asyncio.get_running_loop().create_future())
        heapq.heappush(self._queue, waiter)
        self._waiting[priority] = self._waiting.get(priority, 0) + 1
        timeout = self.queue_timeout_s
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), timeout=max(timeout, 0.0))
        except (TimeoutError, asyncio.CancelledError) as error:
            if waiter.future.done() and not waiter.future.cancelled():
                self._release()  # granted just as we gave up: hand the slot on
            else:
                waiter.future.cancel()
                self._waiting[priority] -= 1
            if isinstance(error, TimeoutError):
                raise DeadlineExceeded(f"waited {timeout:.3f}s in the queue") from None
            raise

    def _release(self) -> None:
        self.running -= 1
        # The heap's top is the most urgent waiter; if it may not take a slot, no one behind it may.
        while self._queue:
            waiter = self._queue[0]
            if waiter.future.done():
                heapq.heappop(self._queue)  # gave up waiting
                continue
            if self.running >= self._limit(waiter.priority):
                return
            heapq.heappop(self._queue)
            self._waiting[waiter.priority] -= 1
            self.running += 1
            waiter.future.set_result(None)  # the slot passes straight to the waiter
            return

    def _retry_hint(self) -> float:
        # A rough hint: one second per running batch ahead. Clients back off and retry.
        return max(1.0, len(self._queue) / max(self.max_running, 1))
