"""The engine's hook: a request is looked up once it is prepared; a hit replays the stored events,
a miss records its events and stores them when the stream finishes cleanly.

A hit streams exactly the events of the miss that stored it (the same deltas, tool calls and final
fields); only the timings are its own, and its usage marks every token as cached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import replace

from autoglm_core.cache.codec import NotStorable, compress, decode, decompress, encode
from autoglm_core.cache.keys import BYPASS_OFF, PreparedRequest, bypass_reason, cache_key
from autoglm_core.cache.store import CacheStats, Entry, EntryStore
from autoglm_core.generation.types import (
    ContentDelta,
    Finished,
    FinishReason,
    GenerationEvent,
    GenerationParams,
    ReasoningDelta,
    Timings,
)
from autoglm_core.telemetry import (
    ATTR_CACHE_BYPASS,
    ATTR_CACHE_RESULT,
    ATTR_MODEL_NAME,
    ATTR_MODEL_VERSION,
    SPAN_CACHE,
    span,
)

log = logging.getLogger(__name__)

# Only answers the model finished on its own terms are stored: a time limit or a cancel cut them.
_STORED_REASONS = {FinishReason.EOS, FinishReason.LENGTH, FinishReason.STOP_SEQUENCE, FinishReason.TOOL_CALLS}


# Hits of answers up to this size (uncompressed) keep their decoded events, for at most this many
# keys: the memo stays a small fraction of the compressed store.
DECODED_MAX_BYTES = 4096
DECODED_ENTRIES = 256
# Event types with no mutable parts, which callers may share.
_SHAREABLE = (ContentDelta, ReasoningDelta, Finished)


class CacheLookup:
    """One request's use of the cache: a hit to replay, or a miss whose events are recorded."""

    def __init__(self, store: EntryStore | None, key: str, hit: list[GenerationEvent] | None) -> None:
        self._store = store
        self._key = key
        # The stored events of a hit; None: a miss or a bypass (then `record` keeps or ignores events).
        self.hit = hit
        self._events: list[GenerationEvent] = []

    def record(self, event: GenerationEvent) -> None:
        """Keeps a miss's event; stores them all at Finished (nothing for a bypass)."""
        if self._store is None:
            return
        self._events.append(event)
        if isinstance(event, Finished) and event.finish_reason in _STORED_REASONS:
            self._save(event)

    async def replay(self, started: float) -> AsyncGenerator[GenerationEvent, None]:
        """The hit's events; the final one with this call's timings and its tokens marked cached."""
        assert self.hit is not None
        for event in self.hit:
            if isinstance(event, Finished):
                event = _as_cached(event, started)
            yield event

    def _save(self, finished: Finished) -> None:
        assert self._store is not None
        try:
            raw = encode(self._events)
        except NotStorable as error:
            log.debug("response not cached: %s", error)
            return
        entry = Entry(
            packed=compress(raw),
            raw_size=len(raw),
            model=finished.model_name,
            version=finished.model_version,
            completion_tokens=finished.usage.completion_tokens,
        )
        self._store.put(self._key, entry)


class ResponseCache:
    """Answers of deterministic requests, LZ4-compressed, per process."""

    def __init__(self, enabled: bool = True, max_bytes: int = 64 << 20, ttl_s: float = 600.0) -> None:
        self.enabled = enabled and max_bytes > 0
        self.store = EntryStore(max_bytes, ttl_s)
        # key -> (the stored entry, its decoded events): hits of small answers skip decoding.
        self._decoded: dict[str, tuple[Entry, list[GenerationEvent]]] = {}

    def lookup(self, params: GenerationParams, prepared: PreparedRequest) -> CacheLookup:
        """Hit, miss or bypass for a prepared request, traced as an `autoglm.cache` span."""
        with span(SPAN_CACHE) as looking:
            info = prepared.backend.info
            looking.set_attribute(ATTR_MODEL_NAME, info.name)
            looking.set_attribute(ATTR_MODEL_VERSION, info.version)
            reason = bypass_reason(params, prepared) if self.enabled else BYPASS_OFF
            if reason is not None:
                self.store.bypasses += 1
                looking.set_attribute(ATTR_CACHE_RESULT, "bypass")
                looking.set_attribute(ATTR_CACHE_BYPASS, reason)
                return CacheLookup(None, "", None)
            key = cache_key(params, prepared)
            entry = self.store.get(key)
            looking.set_attribute(ATTR_CACHE_RESULT, "miss" if entry is None else "hit")
            if entry is None:
                return CacheLookup(self.store, key, None)
            return CacheLookup(None, key, self._events_of(key, entry))

    def _events_of(self, key: str, entry: Entry) -> list[GenerationEvent]:
        """The entry's events, decoded once while it is among the recent hits.

        The memo is checked against the entry the store returned, so an entry the store has since
        dropped or replaced is never replayed. Only events that are immutable all the way down are
        shared between callers (tool calls carry argument dicts, so their answers are decoded anew).
        """
        known = self._decoded.get(key)
        if known is not None and known[0] is entry:
            return known[1]
        events = decode(decompress(entry.packed))
        if entry.raw_size <= DECODED_MAX_BYTES and all(isinstance(e, _SHAREABLE) for e in events):
            if len(self._decoded) >= DECODED_ENTRIES:
                self._decoded.clear()
            self._decoded[key] = (entry, events)
        return events

    def invalidate(self, model: str, version: str | None = None) -> None:
        """Drops a model version's entries (None: all its versions): it was loaded, promoted or
        rolled back, so what was stored under that name may no longer be what it serves."""
        dropped = self.store.invalidate(model, version)
        if dropped:
            log.info("response cache: dropped %d entries of %s@%s", dropped, model, version or "*")

    def stats(self) -> CacheStats:
        return self.store.stats()


def _as_cached(finished: Finished, started: float) -> Finished:
    usage = finished.usage
    elapsed_ms = (time.monotonic() - started) * 1000
    return replace(
        finished,
        usage=replace(
            usage, cached_tokens=usage.prompt_tokens, cached_completion_tokens=usage.completion_tokens
        ),
        timings=Timings(queue_ms=0.0, time_to_first_token_ms=elapsed_ms, total_ms=elapsed_ms),
    )
