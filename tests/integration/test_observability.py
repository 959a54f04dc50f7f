"""Tracing, metrics and JSON logs of a real server on the mock backend."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from autoglm_client import AsyncAutoGLMClient
from autoglm_server.observability.logs import JsonFormatter
from tests.integration.ops_support import start_ops_server

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN_ID = "b7ad6b7169203331"
GENERATE_RPC = "/autoglm.v1.GenerationService/Generate"
_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """The process's tracer provider (installed once: OpenTelemetry allows only one) -> memory."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    return _EXPORTER


async def _finished_spans(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    # The server ends the RPC span just after the client has its answer: wait for it briefly.
    for _ in range(100):
        found = list(exporter.get_finished_spans())
        if any(s.name == name for s in found):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"no span {name}; have {[s.name for s in exporter.get_finished_spans()]}")


@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_generate_span_tree_under_the_clients_trace(
    spans: InMemorySpanExporter, streaming: bool
) -> None:
    ops = await start_ops_server(tracing="on")
    traceparent = f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"
    client = AsyncAutoGLMClient(f"127.0.0.1:{ops.server.port}", metadata=[("traceparent", traceparent)])
    rpc_name = GENERATE_RPC + ("Stream" if streaming else "")
    try:
        if streaming:
            assert [e async for e in client.stream("hello", max_new_tokens=8)][-1].HasField("finished")
        else:
            await client.generate("hello", max_new_tokens=8)
        found = await _finished_spans(spans, rpc_name)
    finally:
        await client.close()
        await ops.close()
    by_name = {s.name: s for s in found}
    rpc, generate = by_name[rpc_name], by_name["autoglm.generate"]
    assert all(format(s.context.trace_id, "032x") == TRACE_ID for s in by_name.values())
    assert rpc.parent is not None and format(rpc.parent.span_id, "016x") == CLIENT_SPAN_ID
    assert generate.parent is not None and generate.parent.span_id == rpc.context.span_id
    for phase in ("autoglm.queue", "autoglm.prefill", "autoglm.decode"):
        parent = by_name[phase].parent
        assert parent is not None and parent.span_id == generate.context.span_id, phase
    attributes = generate.attributes or {}
    assert attributes["gen_ai.request.model"] == "mock"
    assert attributes["autoglm.model.version"] == "1.0.0"
    assert attributes["gen_ai.usage.output_tokens"] == 8
    assert int(attributes["gen_ai.usage.input_tokens"]) > 0  # type: ignore[arg-type]
    assert (by_name["autoglm.decode"].attributes or {})["gen_ai.usage.output_tokens"] == 8
    assert attributes["autoglm.priority"] == 5  # the default priority, set on every span
    assert attributes["autoglm.model.requested"] == ""  # the caller named no model


async def test_an_unknown_model_span_names_the_model_asked_for(spans: InMemorySpanExporter) -> None:
    ops = await start_ops_server(tracing="on")
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await ops.client.generate("hello", model="no-such-model", priority=2, max_new_tokens=8)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        found = await _finished_spans(spans, "autoglm.generate")
    finally:
        await ops.close()
    by_name = {s.name: s for s in found}
    attributes = by_name["autoglm.generate"].attributes or {}
    assert attributes["autoglm.model.requested"] == "no-such-model" and attributes["autoglm.priority"] == 2
    assert "autoglm.memory_retrieval" not in by_name  # the model is checked before memory is searched


async def test_a_failed_call_marks_its_spans_as_errors(spans: InMemorySpanExporter) -> None:
    ops = await start_ops_server(tracing="on")
    try:
        with pytest.raises(grpc.aio.AioRpcError):
            await ops.client.generate("x", model="no-such-model", max_new_tokens=2)
        found = await _finished_spans(spans, GENERATE_RPC)
    finally:
        await ops.close()
    rpc = next(s for s in found if s.name == GENERATE_RPC)
    assert rpc.status.status_code == trace.StatusCode.ERROR
    assert (rpc.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_endpoint_counts_rpcs_tokens_and_timing() -> None:
    from tests.integration.ops_support import free_port

    ops = await start_ops_server(metrics_port=free_port())
    try:
        await ops.client.generate("hello", max_new_tokens=6)
        with pytest.raises(grpc.aio.AioRpcError):
            await ops.client.generate("x", temperature=-1.0)
        samples = await asyncio.to_thread(_scrape, ops.server.ops.metrics_port)
    finally:
        await ops.close()
    model = (("model", "mock"), ("version", "1.0.0"))

    def rpc(code: str) -> float:
        return samples.get(("autoglm_rpc_requests_total", (("code", code), ("rpc", GENERATE_RPC))), 0)

    assert rpc("OK") == 1 and rpc("INVALID_ARGUMENT") == 1
    assert samples[("autoglm_completion_tokens_total", model)] == 6
    assert samples[("autoglm_prompt_tokens_total", model)] > 0
    assert samples[("autoglm_time_to_first_token_seconds_count", model)] == 1
    assert samples[("autoglm_inter_token_latency_seconds_count", model)] == 5
    assert samples[("autoglm_backend_calls_total", tuple(sorted((*model, ("outcome", "ok")))))] == 1
    assert samples[("autoglm_queue_depth", model)] == 0
    assert samples[("autoglm_running_requests", model)] == 0
    assert samples[("autoglm_traffic_weight", model)] == 100


def test_json_log_lines_carry_the_current_trace(spans: InMemorySpanExporter) -> None:
    record = logging.LogRecord("autoglm.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.model = "mock"
    with trace.get_tracer("test").start_as_current_span("work") as span:
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["level"] == "INFO" and line["model"] == "mock"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
