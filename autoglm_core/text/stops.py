"""Stop strings: cut the output at the first stop string and never leak a part of one.

Text that could be the beginning of a stop string is held back until the next delta shows whether
it is one (the TGI #333 / vLLM #3574 class of bugs).
"""

from __future__ import annotations

from collections.abc import Sequence


class StopMatcher:
    """Feed text deltas; get back the text that is safe to emit and whether a stop string matched."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._held = ""
        self.matched: str | None = None

    def feed(self, text: str) -> str:
        if self.matched is not None:
            return ""
        if not self._stops:
            return text
        buffer = self._held + text
        # The stop string that completes first wins (as it would token by token), so the result
        # does not depend on how the text was chunked; ties go to the one that starts earlier.
        first: tuple[int, int, str] | None = None
        for stop in self._stops:
            index = buffer.find(stop)
            if index >= 0:
                candidate = (index + len(stop), index, stop)
                first = candidate if first is None else min(first, candidate)
        if first is not None:
            self.matched = first[2]
            self._held = ""
            return buffer[: first[1]]
        keep = self._longest_partial_suffix(buffer)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """Held-back text at the end: it never became a stop string, so it is output."""
        held, self._held = self._held, ""
        return "" if self.matched is not None else held

    def _longest_partial_suffix(self, buffer: str) -> int:
        best = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(buffer)), best, -1):
                if buffer.endswith(stop[:size]):
                    best = size
                    break
        return best
