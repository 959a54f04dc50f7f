"""Watches every generation the engine runs: who is in flight on which backend, how fast tokens come.

One place counts requests per model version (queued, running), times tokens (time to first token,
inter-token latency), traces the queue, prefill and decode phases, and remembers per backend when it
last made progress and how its recent calls ended. Its readers:

- metrics (server side) subscribe as a GenerationObserver and read `snapshot()` at scrape time;
- the watchdog asks which backends stalled or keep failing, and each version's recent error rate;
- unloading waits for `in_flight(backend)` to reach 0 before closing a version.
"""

from __future__ import annotations

import collections
import time
from collections.abc import AsyncGenerator, Iterator
from contextlib import (
    ExitStack,
    aclosing,
    contextmanager,
)
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry import trace

from autoglm_core.backends.base import Backend, BackendRequest, TokenChunk
from autoglm_core.errors import DeadlineExceeded
from autoglm_core.generation.types import Finished, GenerationEvent, ToolCallFinished
from autoglm_core.telemetry import (
    ATTR_COMPLETION_TOKENS,
    ATTR_FINISH_REASON,
    ATTR_MODEL_NAME,
    ATTR_MODEL_VERSION,
    ATTR_PROMPT_TOKENS,
    ATTR_REQUEST_ID,
    SPAN_DECODE,
    SPAN_PREFILL,
    SPAN_QUEUE,
    tracer,
)

# (model name, version): the label pair of every per-model metric.
ModelKey = tuple[str, str]


def model_key(backend: Backend) -> ModelKey:
    return (backend.info.name, backend.info.version)


class GenerationObserver(Protocol):
    """Told about token timing and outcomes (the server's Prometheus metrics implement it)."""

    def first_token(self, model: ModelKey, seconds: float) -> None:
        """Time from the request's arrival to its first generated token."""

    def inter_token(self, model: ModelKey, seconds: float) -> None:
        """Gap between two consecutive chunks of tokens of one request."""

    def tokens(self, model: ModelKey, prompt: int, completion: int) -> None:
        """Tokens read and written by one backend call."""

    def finished(self, model: ModelKey, outcome: str) -> None:
        """A backend call ended: 'ok', 'stopped' (closed early) or 'error'."""

    def tool_call(self, model: ModelKey, tool: str) -> None:
        """The model called a tool."""


@dataclass
class RequestWatch:
    """One request from the moment its model version is chosen until its stream ends."""

    request_id: str
    backend: Backend
    started: float
    queued: bool = False
    admitted: bool = False
    in_backend: bool = False
    last_progress: float = 0.0
    # Time to first token is the request's, not each turn's (agent loops call the backend again).
    first_token_seen: bool = False


@dataclass
class _Outcomes:
    """Recent call outcomes of one backend."""

    consecutive_errors: int = 0
    # (monotonic time, failed) of recent calls, for error rates over a window.
    recent: collections.deque[tuple[float, bool]] = field(
        default_factory=lambda: collections.deque(maxlen=10_000)
    )


@dataclass(frozen=True)
class ModelLoad:
    """Requests of one model version right now."""

    queued: int = 0
    running: int = 0


class GenerationMonitor:
    """Bookkeeping of requests in flight; cheap enough to run on every token."""

    def __init__(self) -> None:
        self.observers: list[GenerationObserver] = []
        self._watches: dict[int, RequestWatch] = {}
        self._by_request: dict[str, RequestWatch] = {}
        self._outcomes: dict[int, _Outcomes] = {}

    # --- the engine's hooks -------------------------------------------------------------------

    @contextmanager
    def request(self, backend: Backend, request_id: str, started: float) -> Iterator[RequestWatch]:
        """Marks a request in flight on `backend` (resolved, maybe queued) until the block ends."""
        watch = RequestWatch(request_id, backend, started)
        self._watches[id(watch)] = watch
        self._by_request[request_id] = watch
        span = trace.get_current_span()
        span.set_attribute(ATTR_MODEL_NAME, backend.info.name)
        span.set_attribute(ATTR_MODEL_VERSION, backend.info.version)
        span.set_attribute(ATTR_REQUEST_ID, request_id)
        try:
            yield watch
        finally:
            del self._watches[id(watch)]
            if self._by_request.get(request_id) is watch:
                del self._by_request[request_id]

    def saw(self, watch: RequestWatch, event: GenerationEvent) -> None:
        """Every event of the request's stream passes here (tool calls, final usage)."""
        if isinstance(event, ToolCallFinished):
            for observer in self.observers:
                observer.tool_call(model_key(watch.backend), event.call.name)
        elif isinstance(event, Finished):
            span = trace.get_current_span()
            span.set_attribute(ATTR_PROMPT_TOKENS, event.usage.prompt_tokens)
            span.set_attribute(ATTR_COMPLETION_TOKENS, event.usage.completion_tokens)
            span.set_attribute(ATTR_FINISH_REASON, [event.finish_reason.value])

    async def tokens(
        self, backend: Backend, request: BackendRequest, started: float | None = None
    ) -> AsyncGenerator[TokenChunk, None]:
        """backend.generate(request), timed and traced: use it wherever the engine calls a backend."""
        watch = self._by_request.get(request.request_id)
        with ExitStack() as stack:
            if watch is None:  # a call outside Engine.stream (tests, tools): tracked on its own
                watch = stack.enter_context(
                    self.request(backend, request.request_id, started or time.monotonic())
                )
            async with aclosing(self._timed(watch, request)) as chunks:
                async for chunk in chunks:
                    yield chunk

    def rebind(self, call_id: str, backend: Backend) -> Backend:
        """Moves a call to `backend` (its version's fresh backend after a restart); returns it."""
        watch = self._by_request.get(call_id)
        if watch is not None:
            watch.backend = backend
        return backend

    # --- readers ------------------------------------------------------------------------------

    def in_flight(self, backend: Backend) -> int:
        """Requests that chose `backend` and have not finished (queued ones included)."""
        return sum(1 for w in self._watches.values() if w.backend is backend)

    def snapshot(self) -> dict[ModelKey, ModelLoad]:
        """Queued and running requests per model version ('running': scheduled into the batch)."""
        counts: dict[ModelKey, list[int]] = {}
        for watch in self._watches.values():
            pair = counts.setdefault(model_key(watch.backend), [0, 0])
            pair[0] += watch.queued
            pair[1] += (watch.admitted or watch.in_backend) and not watch.queued
        return {key: ModelLoad(queued=q, running=r) for key, (q, r) in counts.items()}

    def stalled(self, backend: Backend, after_s: float, now: float | None = None) -> bool:
        """True when calls are inside `backend` and none of them got a token for `after_s`."""
        inside = [w for w in self._watches.values() if w.backend is backend and w.in_backend]
        if not inside:
            return False
        latest = max(w.last_progress for w in inside)
        return (now or time.monotonic()) - latest > after_s

    def consecutive_errors(self, backend: Backend) -> int:
        outcomes = self._outcomes.get(id(backend))
        return outcomes.consecutive_errors if outcomes else 0

    def error_rate(self, backend: Backend, window_s: float, now: float | None = None) -> tuple[float, int]:
        """(failed share, calls) of the backend's calls that ended within the last `window_s`."""
        outcomes = self._outcomes.get(id(backend))
        if outcomes is None:
            return 0.0, 0
        since = (now or time.monotonic()) - window_s
        recent = [failed for at, failed in outcomes.recent if at >= since]
        if not recent:
            return 0.0, 0
        return sum(recent) / len(recent), len(recent)

    def forget(self, backend: Backend) -> None:
        """Drops a backend's outcome history (after a restart or a rollback)."""
        self._outcomes.pop(id(backend), None)

    # --- internals ----------------------------------------------------------------------------

    async def _timed(self, watch: RequestWatch, request: BackendRequest) -> AsyncGenerator[TokenChunk, None]:
        key = model_key(watch.backend)
        watch.in_backend, watch.last_progress = True, time.monotonic()
        # Spans are started, not made current: this generator yields, and a current span must not
        # stay attached across a yield (see telemetry.traced_stream).
        phase = tracer.start_span(SPAN_PREFILL)
        phase.set_attribute(ATTR_PROMPT_TOKENS, len(request.prompt_ids))
        # "stopped": closed early by the engine (stop string, time limit) or by a cancelled caller.
        completion, outcome, last_chunk_at = 0, "stopped", 0.0
        try:
            watch.queued = True
            async with aclosing(watch.backend.generate(request)) as chunks:
                async for chunk in chunks:
                    now = time.monotonic()
                    if chunk.queued_s is not None:
                        self._left_queue(watch, chunk.queued_s, now)
                    if chunk.token_ids:
                        if completion == 0:
                            if not watch.first_token_seen:
                                watch.first_token_seen = True
                                self._notify_first_token(key, now - watch.started)
                            phase.end()
                            phase = tracer.start_span(SPAN_DECODE)
                        else:
                            self._notify_gap(key, now - last_chunk_at)
                        completion += len(chunk.token_ids)
                        last_chunk_at = watch.last_progress = now
                    yield chunk
            outcome = "ok"
        except DeadlineExceeded:
            outcome = "stopped"  # the caller's deadline, not a failing backend: no watchdog restart
            raise
        except Exception as error:
            outcome = "error"
            phase.record_exception(error)
            phase.set_status(trace.StatusCode.ERROR, str(error))
            raise
        finally:
            watch.in_backend = watch.queued = False
            phase.set_attribute(ATTR_COMPLETION_TOKENS, completion)
            phase.end()
            self._record_outcome(watch.backend, outcome)
            for observer in self.observers:
                observer.tokens(key, len(request.prompt_ids), completion)
                observer.finished(key, outcome)

    def _left_queue(self, watch: RequestWatch, queued_s: float, now: float) -> None:
        """The runtime scheduled the request: its queue wait becomes a span of its own."""
        watch.queued, watch.admitted = False, True
        end_ns = time.time_ns() - int((time.monotonic() - now) * 1e9)
        span = tracer.start_span(SPAN_QUEUE, start_time=end_ns - int(queued_s * 1e9))
        span.end(end_time=end_ns)

    def _notify_first_token(self, key: ModelKey, seconds: float) -> None:
        for observer in self.observers:
            observer.first_token(key, seconds)

    def _notify_gap(self, key: ModelKey, seconds: float) -> None:
        for observer in self.observers:
            observer.inter_token(key, seconds)

    def _record_outcome(self, backend: Backend, outcome: str) -> None:
        if outcome == "stopped":
            return  # closed early on purpose: says nothing about the backend's health
        outcomes = self._outcomes.setdefault(id(backend), _Outcomes())
        failed = outcome == "error"
        outcomes.consecutive_errors = outcomes.consecutive_errors + 1 if failed else 0
        outcomes.recent.append((time.monotonic(), failed))
