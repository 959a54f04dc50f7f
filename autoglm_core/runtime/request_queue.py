"""The one queue of requests waiting for the batch: by priority with aging, then arrival.

A lower number is more urgent. Waiting makes a request more urgent by one level per `aging_s`
seconds, so a low priority is never starved forever by a stream of urgent arrivals (only delayed).
"""

from __future__ import annotations

from collections.abc import Iterator

from autoglm_core.runtime.sequence import Sequence


class RequestQueue:
    """Waiting sequences; small enough in practice that a scan beats keeping a heap up to date as
    priorities age."""

    def __init__(self, aging_s: float = 0.0) -> None:
        # 0 turns aging off: strict priority.
        self.aging_s = aging_s
        self._items: dict[int, Sequence] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Sequence]:
        return iter(list(self._items.values()))

    def add(self, seq: Sequence) -> None:
        self._items[id(seq)] = seq

    def remove(self, seq: Sequence) -> None:
        self._items.pop(id(seq), None)

    def effective_priority(self, seq: Sequence, now: float) -> float:
        if self.aging_s <= 0:
            return float(seq.priority)
        return seq.priority - (now - seq.arrival) / self.aging_s

    def peek(self, now: float) -> Sequence | None:
        """The most urgent waiter (not removed)."""
        if not self._items:
            return None
        return min(self._items.values(), key=lambda s: (self.effective_priority(s, now), s.order))
