"""GenerationMonitor: what metrics, the watchdog and unload draining read from it."""

from __future__ import annotations

import time
from contextlib import aclosing

import pytest

from autoglm_core.backends.base import BackendRequest, SamplingConfig
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.errors import BackendFailure, DeadlineExceeded
from autoglm_core.generation.types import ToolCallFinished, ToolCallRecord
from autoglm_core.health.monitor import GenerationMonitor, ModelKey


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def first_token(self, model: ModelKey, seconds: float) -> None:
        self.calls.append(("first_token", model))

    def inter_token(self, model: ModelKey, seconds: float) -> None:
        self.calls.append(("inter_token", model))

    def tokens(self, model: ModelKey, prompt: int, completion: int) -> None:
        self.calls.append(("tokens", (prompt, completion)))

    def finished(self, model: ModelKey, outcome: str) -> None:
        self.calls.append(("finished", outcome))

    def tool_call(self, model: ModelKey, tool: str) -> None:
        self.calls.append(("tool_call", tool))


def _request(tokens: int, request_id: str = "r") -> BackendRequest:
    return BackendRequest(request_id, [10, 11, 12], SamplingConfig(max_new_tokens=tokens))


async def _drain(monitor: GenerationMonitor, backend: MockBackend, request: BackendRequest) -> None:
    async with aclosing(monitor.tokens(backend, request)) as chunks:
        async for _ in chunks:
            pass


async def test_timing_tokens_and_outcomes_reach_observers() -> None:
    monitor, recorder, backend = GenerationMonitor(), _Recorder(), MockBackend()
    monitor.observers.append(recorder)
    await backend.load()
    await _drain(monitor, backend, _request(4))
    names = [name for name, _ in recorder.calls]
    assert names == ["first_token", "inter_token", "inter_token", "inter_token", "tokens", "finished"]
    assert recorder.calls[-2:] == [("tokens", (3, 4)), ("finished", "ok")]
    assert monitor.in_flight(backend) == 0 and monitor.consecutive_errors(backend) == 0


async def test_failures_count_towards_restarts_and_error_rates_but_early_stops_do_not() -> None:
    monitor, backend = GenerationMonitor(), MockBackend(behaviour=MockBehaviour(fail_after_tokens=1))
    await backend.load()
    for _ in range(2):
        with pytest.raises(BackendFailure):
            await _drain(monitor, backend, _request(5))
    assert monitor.consecutive_errors(backend) == 2
    assert monitor.error_rate(backend, window_s=60) == (1.0, 2)
    async with aclosing(monitor.tokens(backend, _request(5))) as chunks:
        assert (await anext(chunks)).queued_s is not None  # scheduled: no token yet
        assert (await anext(chunks)).token_ids  # closed after one token: a stop string or a cancel
    assert monitor.error_rate(backend, window_s=60) == (1.0, 2)


async def test_a_backend_with_calls_but_no_tokens_is_stalled() -> None:
    monitor, backend = GenerationMonitor(), MockBackend(behaviour=MockBehaviour(hang_after_tokens=1))
    await backend.load()
    async with aclosing(monitor.tokens(backend, _request(5))) as chunks:
        assert (await anext(chunks)).queued_s is not None
        assert (await anext(chunks)).token_ids
        assert not monitor.stalled(backend, after_s=0.5)
        assert monitor.stalled(backend, after_s=0.5, now=10**9)
        assert monitor.in_flight(backend) == 1
    assert monitor.in_flight(backend) == 0


def test_tool_calls_are_counted_per_model() -> None:
    monitor, recorder, backend = GenerationMonitor(), _Recorder(), MockBackend()
    monitor.observers.append(recorder)
    with monitor.request(backend, "r", 0.0) as watch:
        monitor.saw(watch, ToolCallFinished(ToolCallRecord(id="c1", name="weather", arguments={})))
    assert recorder.calls == [("tool_call", "weather")]


async def test_a_passed_deadline_is_the_callers_and_counts_as_no_backend_failure() -> None:
    monitor = GenerationMonitor()
    backend = MockBackend(behaviour=MockBehaviour(token_latency_s=0.005))
    await backend.load()
    try:
        for _ in range(3):
            late = BackendRequest(
                "r", [10, 11, 12], SamplingConfig(max_new_tokens=500), deadline=time.monotonic() + 0.05
            )
            with pytest.raises(DeadlineExceeded):
                await _drain(monitor, backend, late)
        assert monitor.consecutive_errors(backend) == 0  # the watchdog restarts nothing
        rate, _calls = monitor.error_rate(backend, window_s=60)
        assert rate == 0.0
    finally:
        await backend.close()
