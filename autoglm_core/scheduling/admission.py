"""Priority admission in front of the backends, after Triton's dynamic-batcher queue policy.

At most `max_running` requests generate at once (a backend batches those); others wait in a
bounded queue ordered by priority (lower number first), then arrival. A full queue refuses at once
with a retry hint, and a waiter whose deadline passes leaves the queue.
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

    def __init__(self, max_running: int = 16, max_queue: int = 256, queue_timeout_s: float = 30.0):
        self.max_running = max_running
        self.max_queue = max_queue
        self.queue_timeout_s = queue_timeout_s
        self.running = 0
        self._queue: list[_Waiter] = []
        # Waiters neither granted nor gone; the heap also holds gone ones until they reach its top.
        self._waiting = 0
        self._sequence = itertools.count()

    @property
    def queue_depth(self) -> int:
        return self._waiting

    @asynccontextmanager
    async def slot(self, priority: int, deadline: float | None = None) -> AsyncIterator[float]:
        """Waits for a slot; yields the seconds spent waiting. `deadline` is time.monotonic()."""
        started = time.monotonic()
        await self._acquire(priority, deadline)
        try:
            yield time.monotonic() - started
        finally:
            self._release()

    async def _acquire(self, priority: int, deadline: float | None) -> None:
        if self.running < self.max_running and self.queue_depth == 0:
            self.running += 1
            return
        if self.queue_depth >= self.max_queue:
            raise QueueFull(retry_after_s=self._retry_hint())
        waiter = _Waiter(priority, next(self._sequence), asyncio.get_running_loop().create_future())
        heapq.heappush(self._queue, waiter)
        self._waiting += 1
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
                self._waiting -= 1
            if isinstance(error, TimeoutError):
                raise DeadlineExceeded(f"waited {timeout:.3f}s in the queue") from None
            raise

    def _release(self) -> None:
        while self._queue:
            waiter = heapq.heappop(self._queue)
            if not waiter.future.done():
                waiter.future.set_result(None)  # the slot passes straight to the waiter
                self._waiting -= 1
                return
        self.running -= 1

    def _retry_hint(self) -> float:
        # A rough hint: one second per running batch ahead. Clients back off and retry.
        return max(1.0, len(self._queue) / max(self.max_running, 1))
