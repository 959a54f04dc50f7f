"""Prometheus metrics: RPC outcomes, token timing, load per model version, self-healing events.

Each server owns its CollectorRegistry (so several servers in one process, as in tests, do not
collide) and serves it over HTTP on `metrics_port`. Per-token numbers arrive through the engine's
GenerationObserver hooks; queue depth, running calls, batch size and traffic weights are read from
the engine at scrape time, so they cost nothing between scrapes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

import grpc
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autoglm_core.health.monitor import GenerationMonitor, ModelKey
from autoglm_core.registry.models import ModelRegistry
from autoglm_server.observability.access import CallNote, log_call, open_note

log = logging.getLogger(__name__)

MODEL_LABELS = ("model", "version")
# Only our own RPCs are counted: health probes and reflection would drown them.
_COUNTED_PREFIX = "/autoglm."
_TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_ITL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_RPC_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Metrics:
    """The server's metrics; implements autoglm_core's GenerationObserver."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rpcs = Counter(
            "autoglm_rpc_requests", "RPCs by method and status code.", ["rpc", "code"], registry=r
        )
        self.rpc_seconds = Histogram(
            "autoglm_rpc_duration_seconds", "RPC duration.", ["rpc"], buckets=_RPC_BUCKETS, registry=r
        )
        self.http_requests = Counter(
            "autoglm_http_requests",
            "OpenAI-compatible HTTP API requests by route and status.",
            ["route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "autoglm_http_duration_seconds",
            "HTTP API request duration, to the last byte.",
            ["route"],
            buckets=_RPC_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "autoglm_time_to_first_token_seconds",
            "From a request's arrival to its first token (queueing included).",
            MODEL_LABELS,
            buckets=_TTFT_BUCKETS,
            registry=r,
        )
        self.itl = Histogram(
            "autoglm_inter_token_latency_seconds",
            "Gap between consecutive token chunks of one request.",
            MODEL_LABELS,
            buckets=_ITL_BUCKETS,
            registry=r,
        )
        self.prompt_tokens = Counter("autoglm_prompt_tokens", "Tokens read.", MODEL_LABELS, registry=r)
        self.completion_tokens = Counter(
            "autoglm_completion_tokens", "Tokens generated.", MODEL_LABELS, registry=r
        )
        self.backend_calls = Counter(
            "autoglm_backend_calls",
            "Backend generations by outcome (ok, stopped early, error).",
            [*MODEL_LABELS, "outcome"],
            registry=r,
        )
        self.tool_calls = Counter(
            "autoglm_tool_calls", "Tool calls made.", [*MODEL_LABELS, "tool"], registry=r
        )
        self.slow_readers = Counter(
            "autoglm_slow_reader_cancels",
            "Streams cancelled because their client read nothing for stream_write_timeout_s.",
            ["rpc"],
            registry=r,
        )
        self.heal_events = Counter(
            "autoglm_self_heal_events",
            "Watchdog actions: backend_restart, backend_restart_failed, canary_rollback.",
            ["event", *MODEL_LABELS],
            registry=r,
        )
        self._http: WSGIServer | None = None
        self._itl_by_model: dict[ModelKey, Histogram] = {}

    # --- GenerationObserver -------------------------------------------------------------------

    def first_token(self, model: ModelKey, seconds: float) -> None:
        self.ttft.labels(*model).observe(seconds)

    def inter_token(self, model: ModelKey, seconds: float) -> None:
        # Called for every token: look the labelled child up once per model, not on every call.
        child = self._itl_by_model.get(model)
        if child is None:
            child = self._itl_by_model[model] = self.itl.labels(*model)
        child.observe(seconds)

    def tokens(self, model: ModelKey, prompt: int, completion: int) -> None:
        self.prompt_tokens.labels(*model).inc(prompt)
        self.completion_tokens.labels(*model).inc(completion)

    def finished(self, model: ModelKey, outcome: str) -> None:
        self.backend_calls.labels(*model, outcome).inc()

    def tool_call(self, model: ModelKey, tool: str) -> None:
        self.tool_calls.labels(*model, tool).inc()

    # --- wiring -------------------------------------------------------------------------------

    def heal_event(self, event: str, model: ModelKey) -> None:
        self.heal_events.labels(event, *model).inc()

    def watch(self, monitor: GenerationMonitor, registry: ModelRegistry) -> None:
        """Subscribes to the engine and registers the scrape-time gauges."""
        monitor.observers.append(self)
        self.registry.register(_LiveCollector(monitor, registry))

    def serve(self, host: str, port: int) -> int:
        """Serves /metrics over HTTP in a thread; returns the bound port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._http = server
        return int(server.server_port)

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def interceptor(self) -> grpc.aio.ServerInterceptor:
        return _RpcMetricsInterceptor(self)


class _LiveCollector(Collector):
    """Gauges read from the engine when Prometheus scrapes."""

    def __init__(self, monitor: GenerationMonitor, registry: ModelRegistry) -> None:
        self._monitor = monitor
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        queued = GaugeMetricFamily("autoglm_queue_depth", "Requests waiting for a slot.", labels=MODEL_LABELS)
        running = GaugeMetricFamily(
            "autoglm_running_requests", "Requests holding a slot.", labels=MODEL_LABELS
        )
        batch = GaugeMetricFamily(
            "autoglm_batch_size", "Sequences the backend decodes together now.", labels=MODEL_LABELS
        )
        weight = GaugeMetricFamily(
            "autoglm_traffic_weight", "Share of traffic (0-100) of each version.", labels=MODEL_LABELS
        )
        saved = CounterMetricFamily(
            "autoglm_prefix_cache_hit_tokens",
            "Prompt tokens whose prefill the prefix cache saved.",
            labels=MODEL_LABELS,
        )
        cached = GaugeMetricFamily(
            "autoglm_prefix_cache_bytes", "Memory held by the prefix cache.", labels=MODEL_LABELS
        )
        unavailable = GaugeMetricFamily(
            "autoglm_version_unavailable",
            "1 for each version of the shared desired state this replica has not loaded (reason: "
            "loading, or the load's error).",
            labels=[*MODEL_LABELS, "reason"],
        )
        load = self._monitor.snapshot()
        for entry in self._registry.entries():
            for version, why in entry.unavailable.items():
                unavailable.add_metric([entry.name, version, why[:200]], 1)
            for version, backend in entry.versions.items():
                key = [entry.name, version]
                now = load.get((entry.name, version))
                queued.add_metric(key, now.queued if now else 0)
                running.add_metric(key, now.running if now else 0)
                weight.add_metric(key, entry.weights.get(version, 0))
                # Optional: a backend that batches may report `current_batch_size`.
                size = getattr(backend, "current_batch_size", None)
                if isinstance(size, int):
                    batch.add_metric(key, size)
                prefix_cache = getattr(backend, "prefix_cache", None)  # likewise optional
                if prefix_cache is not None:
                    saved.add_metric(key, prefix_cache.hit_tokens)
                    cached.add_metric(key, prefix_cache.nbytes)
        return [queued, running, batch, weight, saved, cached, unavailable, *self._adapter_metrics()]

    def _adapter_metrics(self) -> list[Metric]:
        """Per adapter of each version (backends that serve adapters have an `adapters` store)."""
        labels = [*MODEL_LABELS, "adapter"]
        requests = CounterMetricFamily("autoglm_adapter_requests", "Generations per adapter.", labels=labels)
        tokens = CounterMetricFamily(
            "autoglm_adapter_generated_tokens", "Tokens generated per adapter.", labels=labels
        )
        loads = CounterMetricFamily(
            "autoglm_adapter_loads", "Reads of an adapter from disk (first load and reloads).", labels=labels
        )
        evictions = CounterMetricFamily(
            "autoglm_adapter_evictions", "Evictions of an idle adapter to make room.", labels=labels
        )
        in_flight = GaugeMetricFamily("autoglm_adapter_in_flight", "Generations running now.", labels=labels)
        resident = GaugeMetricFamily("autoglm_adapter_resident", "1 while in memory, else 0.", labels=labels)
        for entry in self._registry.entries():
            for version, backend in entry.versions.items():
                store = getattr(backend, "adapters", None)
                for record in store.records() if store is not None else []:
                    key = [entry.name, version, record.name]
                    requests.add_metric(key, record.stats.requests)
                    tokens.add_metric(key, record.stats.generated_tokens)
                    loads.add_metric(key, record.stats.loads)
                    evictions.add_metric(key, record.stats.evictions)
                    in_flight.add_metric(key, record.in_flight)
                    resident.add_metric(key, 1 if record.resident else 0)
        return [requests, tokens, loads, evictions, in_flight, resident]


# A servicer method as grpc hands it over (typed loosely: its stubs describe the sync API).
Behavior = Callable[..., Any]
if TYPE_CHECKING:  # grpc's classes are generic only in its stubs
    Handler = grpc.RpcMethodHandler[Any, Any]


class _RpcMetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts every autoglm RPC by method and final status code, and times it."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        # method -> (its handler, that handler wrapped): wrapping once, not on every call.
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}
        # The labelled children, looked up once per method (and code) rather than on every call.
        self._counters: dict[tuple[str, grpc.StatusCode], Counter] = {}
        self._timers: dict[str, Histogram] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or not method.startswith(_COUNTED_PREFIX):
            return handler
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            cached = self._wrapped[method] = (handler, self._wrap(method, handler))
        return cached[1]

    def _wrap(self, method: str, handler: Handler) -> Handler:
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # client-streaming RPCs: none in autoglm.v1 so far

    def _unary(self, method: str, behavior: Behavior) -> Behavior:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started, code, note = time.monotonic(), grpc.StatusCode.OK, open_note()
            try:
                response = await behavior(request, context)
                code = _code_set(context)
                return response
            except BaseException as error:
                code = _code_of(error, context)
                raise
            finally:
                self._record(method, code, started, note)

        return wrapper

    def _stream(self, method: str, behavior: Behavior) -> Behavior:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            started, code, note = time.monotonic(), grpc.StatusCode.OK, open_note()
            try:
                async for response in behavior(request, context):
                    yield response
                code = _code_set(context)
            except BaseException as error:
                code = _code_of(error, context)
                raise
            finally:
                self._record(method, code, started, note)

        return wrapper

    def _record(self, method: str, code: grpc.StatusCode, started: float, note: CallNote) -> None:
        seconds = time.monotonic() - started
        counter = self._counters.get((method, code))
        if counter is None:
            counter = self._counters[method, code] = self._metrics.rpcs.labels(method, code.name)
        counter.inc()
        timer = self._timers.get(method)
        if timer is None:
            timer = self._timers[method] = self._metrics.rpc_seconds.labels(method)
        timer.observe(seconds)
        if note.slow_reader:
            self._metrics.slow_readers.labels(method).inc()
        log_call(method, code, seconds, note)
        # The tracing interceptor does not see a status set on the context: put the code on the RPC span.
        span = trace.get_current_span()
        if not span.is_recording():
            return
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code is not grpc.StatusCode.OK:
            span.set_status(trace.StatusCode.ERROR, code.name)


def _code_set(context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    """The status of a call that returned: OK, or what the handler set (errors.end_call)."""
    code = context.code()
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK


def _code_of(error: BaseException, context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        # What the client saw: its deadline passing is DEADLINE_EXCEEDED, not a cancel.
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    code = context.code()
    if isinstance(error, grpc.aio.AbortError) and isinstance(code, grpc.StatusCode):
        return code
    return grpc.StatusCode.UNKNOWN
