"""The step loop: one thread that owns a scheduler and a runner, and the async side callers use.

Callers submit requests from the event loop; the thread collects them, asks the scheduler for a
plan, has the runner execute it, records the results, and hands each request its tokens through its
own asyncio queue (one event-loop wake-up per step, not per token). Closing a request's iterator
aborts it: the thread frees its cache before the next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from typing import Any

from autoglm_core.errors import (
    BackendFailure,
    DeadlineExceeded,
    EngineError,
    InvalidArgument,
    NotReady,
    QueueFull,
)
from autoglm_core.runtime.runner import ModelRunner
from autoglm_core.runtime.scheduler import Outcome, RunnerOutput, Scheduler, StepPlan
from autoglm_core.runtime.sequence import Sequence
from autoglm_core.runtime.types import BackendRequest, TokenChunk

logger = logging.getLogger(__name__)

_DONE = object()
# Undelivered chunks past which a sequence is held (not decoded) until its caller reads on: a
# stream whose client stopped reading then waits for its write timeout without growing a backlog.
MAX_BACKLOG = 256
# Undelivered chunks from which a caller that falls behind gets them merged into one chunk: a slow or
# overloaded writer then sends one larger message instead of many small ones. Below it each token is
# its own chunk, as a caller that keeps up expects.
COALESCE_FROM = 32


@dataclass(eq=False)
class _Sink:
    """Where a sequence's chunks go: its caller's event loop and queue."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Any]
    # Chunks handed over by the thread, and taken by the caller: each counter has one writer.
    sent: int = 0
    taken: int = 0

    @property
    def backlog(self) -> int:
        return self.sent - self.taken


class StepLoop:
    def __init__(self, scheduler: Scheduler, runner: ModelRunner, name: str = "autoglm-step") -> None:
        self.scheduler = scheduler
        self.runner = runner
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.failure: BaseException | None = None
        # ("add", seq) / ("abort", seq) / None to stop; the thread drains it before each step.
        self.inbox: queue.SimpleQueue[tuple[str, Sequence] | None] = queue.SimpleQueue()
        self._sinks: dict[int, _Sink] = {}
        self._outbox: list[tuple[Sequence, Any]] = []
        self._stopping = False
        # Guards `_closed` so that no request slips into the inbox after the thread drained it.
        self._lock = threading.Lock()
        self._closed = False
        # Requests submitted and not yet ended: read and written on the callers' event loop only.
        self.in_flight = 0
        self.steps = 0
        # The last step found waiters but nothing it could run.
        self._stuck = False

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stopping = True
        self.runner.close()
        self.inbox.put(None)

    async def join(self) -> None:
        await asyncio.to_thread(self.thread.join)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive() and not self._stopping

    @property
    def batch_size(self) -> int:
        return len(self.scheduler.running)

    # -- the callers' side -----------------------------------------------------------------------

    def admit(self) -> None:
        """Refuses at once when the queue is full (QueueFull with a retry hint)."""
        config = self.scheduler.config
        waiting = self.in_flight - config.max_running
        if waiting >= config.max_queue:
            # A rough hint: one second per batch ahead. Clients back off and retry.
            raise QueueFull(retry_after_s=max(1.0, waiting / max(config.max_running, 1)))

    async def generate(
        self, request: BackendRequest, max_new_tokens: int, eos_ids: Iterable[int]
    ) -> AsyncGenerator[TokenChunk, None]:
        if not self.alive:
            raise NotReady("the model is not loaded")
        if not request.prompt_ids:
            raise InvalidArgument.one("prompt_ids", "the prompt is empty")
        if not self.scheduler.fits_at_all(len(request.prompt_ids)):
            raise InvalidArgument.one(
                "prompt_ids", f"a prompt of {len(request.prompt_ids)} tokens does not fit in the KV cache"
            )
        self.admit()
        seq = self.scheduler.new_sequence(request, time.monotonic(), max_new_tokens, eos_ids)
        sink = _Sink(asyncio.get_running_loop(), asyncio.Queue())
        self._submit(seq, sink)
        self.in_flight += 1
        pending: Any = None  # an item taken while merging that could not be merged
        try:
            while True:
                item, pending = pending, None
                if item is None:
                    item = await sink.queue.get()
                    sink.taken += 1
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                if sink.queue.qsize() >= COALESCE_FROM:
                    item, pending = _merge_queued(item, sink)
                yield item
        finally:
            self.in_flight -= 1
            self.inbox.put(("abort", seq))  # a no-op for a sequence that ended by itself

    def _submit(self, seq: Sequence, sink: _Sink) -> None:
        with self._lock:
            if self._closed or self._stopping:
                raise NotReady("the model is being unloaded")
            self._sinks[seq.order] = sink
            self.inbox.put(("add", seq))

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._collect(self._wait_s())
                if self._stopping:
                    break
                self._step()
        except BaseException as exc:  # keep the reason for health() and the waiting callers
            self.failure = exc
            logger.exception("step loop died")
        finally:
            self._fail_all(self.failure or NotReady("the model was unloaded"))

    def _wait_s(self) -> float | None:
        """How long the thread may block for news: not at all while there is work it can do."""
        pending = bool(self.scheduler.running) or bool(len(self.scheduler.waiting))
        if not pending:
            return None
        # The last step could run nothing (waiters the cache has no room for, or held sequences
        # whose callers have not read on): look again soon.
        return 0.005 if self._stuck else 0.0

    def _collect(self, wait_s: float | None) -> None:
        try:
            item = self.inbox.get(timeout=wait_s) if wait_s != 0.0 else self.inbox.get_nowait()
            while True:
                if item is None:
                    self._stopping = True
                    return
                action, seq = item
                if action == "add":
                    self.scheduler.add(seq)
                else:  # the caller let go: nothing more is sent to it
                    self._sinks.pop(seq.order, None)
                    if self.scheduler.abort(seq):
                        self._forget(seq)
                item = self.inbox.get_nowait()
        except queue.Empty:
            return

    def _urgent_arrival(self) -> bool:
        """Asked between layers of a decode pass: has something arrived that pauses a running request?"""
        self._collect(0.0)
        return self._stopping or self.scheduler.urgent_waiting(time.monotonic())

    def _hold_backlogged(self) -> None:
        """Holds the running sequences whose callers are MAX_BACKLOG chunks behind (the caller's
        counter is read without a lock: a stale value only moves the hold by a step)."""
        for seq in self.scheduler.running:
            sink = self._sinks.get(seq.order)
            seq.held = sink is not None and sink.backlog >= MAX_BACKLOG

    def _step(self) -> None:
        now = time.monotonic()
        self._hold_backlogged()
        plan = self.scheduler.schedule(now)
        for seq in plan.preempted:
            self.runner.free(seq)
        for seq in plan.expired:
            waited = now - seq.arrival
            self._send(seq, DeadlineExceeded(f"waited {waited:.3f}s in the queue"))
            self._forget(seq)
        for seq in plan.overdue:
            self._send(seq, DeadlineExceeded(f"the deadline passed after {len(seq.output_ids)} tokens"))
            self._forget(seq)
        for seq in plan.started:
            self._send(seq, TokenChunk(token_ids=[], queued_s=now - seq.arrival))
        self._stuck = not plan.has_work
        if plan.has_work:
            self.steps += 1
            output = self._execute(plan)
            if logger.isEnabledFor(logging.DEBUG):
                _log_step(self.steps, plan, time.monotonic() - now)
            self._deliver(self.scheduler.update(plan, output))
        self._flush()

    def _execute(self, plan: StepPlan) -> RunnerOutput:
        try:
            return self.runner.execute(plan, self._urgent_arrival)
        except Exception as exc:
            logger.exception("a step of %d sequences failed", len(plan.sequences))
            error = as_engine_error(exc)
            return RunnerOutput(errors={seq.order: error for seq in plan.sequences})

    def _deliver(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            seq = outcome.seq
            if outcome.error is not None:
                self._send(seq, as_engine_error(outcome.error))
            elif outcome.token_id is not None:
                logprobs = [outcome.logprob] if outcome.logprob is not None else []
                top = [seq.last_top_logprobs] if seq.last_top_logprobs else []
                self._send(seq, TokenChunk([outcome.token_id], logprobs=logprobs, top_logprobs=top))
            if outcome.eos:
                self._send(seq, TokenChunk(token_ids=[], eos=True))
            if outcome.finished:
                if outcome.error is None:
                    self._send(seq, _DONE)
                self._forget(seq)

    def _forget(self, seq: Sequence) -> None:
        self.runner.free(seq)

    def _send(self, seq: Sequence, item: Any) -> None:
        self._outbox.append((seq, item))

    def _flush(self) -> None:
        """Delivers the step's items with one event-loop wake-up per loop rather than one per item
        (fewer GIL hand-offs between the event loop and this thread mid-step)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Queue[Any], Any]]] = {}
        ended = []
        for seq, item in self._outbox:
            sink = self._sinks.get(seq.order)
            if sink is None:
                continue
            by_loop.setdefault(sink.loop, []).append((sink.queue, item))
            sink.sent += 1
            if item is _DONE or isinstance(item, BaseException):
                ended.append(seq.order)
        self._outbox = []
        for loop, items in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody listens any more
                loop.call_soon_threadsafe(_put_all, items)
        # Forgotten only once handed over: a sink gone from _sinks has all its items on their way.
        for order in ended:
            del self._sinks[order]

    def _fail_all(self, error: BaseException) -> None:
        """Ends every request the loop knows of (running, waiting, or not yet collected) with `error`."""
        with self._lock:
            self._closed = True
        for seq in [*self.scheduler.running, *self.scheduler.waiting]:
            self.scheduler.abort(seq)
        self._flush()
        failure = as_engine_error(error)
        sinks, self._sinks = self._sinks, {}
        for sink in sinks.values():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody listens any more
                sink.loop.call_soon_threadsafe(sink.queue.put_nowait, failure)


def _merge_queued(first: TokenChunk, sink: _Sink) -> tuple[TokenChunk, Any]:
    """`first` and the token chunks queued behind it as one chunk, up to an end of sequence; also
    the item that stopped the merge (the end, an error), to be handled next."""
    token_ids, logprobs, top = list(first.token_ids), list(first.logprobs), list(first.top_logprobs)
    eos, stopped_by = first.eos, None
    while not eos and not sink.queue.empty():
        item = sink.queue.get_nowait()
        sink.taken += 1
        if not isinstance(item, TokenChunk):
            stopped_by = item
            break
        token_ids += item.token_ids
        logprobs += item.logprobs
        top += item.top_logprobs
        eos = item.eos
    merged = TokenChunk(token_ids, logprobs=logprobs, top_logprobs=top, eos=eos, queued_s=first.queued_s)
    return merged, stopped_by


def _log_step(number: int, plan: StepPlan, took_s: float) -> None:
    """What a step did and how long it took: the trace for latency questions (DEBUG level)."""
    prefill = sum(len(chunk.token_ids) for chunk in plan.prefills)
    logger.debug(
        "step %d: %d prefill tokens in %d chunks, %d decodes, %.1f ms",
        number,
        prefill,
        len(plan.prefills),
        len(plan.decodes),
        took_s * 1000,
    )


def _put_all(items: list[tuple[asyncio.Queue[Any], Any]]) -> None:
    for q, item in items:
        q.put_nowait(item)


def as_engine_error(exc: BaseException) -> EngineError:
    if isinstance(exc, EngineError):
        return exc
    # Not the caller's fault and possibly passing: UNAVAILABLE, which clients retry.
    return BackendFailure(f"the model backend failed: {type(exc).__name__}: {exc}")
