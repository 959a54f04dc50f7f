"""`autoglm serve` exports its spans by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (tracing=auto).

A separate server process, because a process can install only one tracer provider; the collector is
a fake OTLP trace service on a loopback port in this test.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from autoglm_client import AsyncAutoGLMClient
from benchmarks.server_process import ServerProcess


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()

    def span_names(self) -> set[str]:
        return {
            span.name
            for request in self.requests
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        }

    def service_names(self) -> set[str]:
        return {
            attribute.value.string_value
            for request in self.requests
            for resource in request.resource_spans
            for attribute in resource.resource.attributes
            if attribute.key == "service.name"
        }


async def test_spans_reach_an_otlp_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    collector = _Collector()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # export within 0.1 s
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    try:
        # Started in a thread (the event loop must keep serving the collector); `with` would start it twice.
        process = ServerProcess(["--backend", "mock"], 120.0)
        await asyncio.to_thread(process.__enter__)
        try:
            async with AsyncAutoGLMClient(process.target, timeout=30) as client:
                await client.generate("hello", max_new_tokens=4)
            assert process.process is not None
            process.process.send_signal(signal.SIGTERM)  # shutdown flushes what is left
            assert await asyncio.to_thread(process.process.wait, 30) == 0
        finally:
            await asyncio.to_thread(process.__exit__, None, None, None)
    finally:
        await server.stop(0)
    names = collector.span_names()
    assert {"/autoglm.v1.GenerationService/Generate", "autoglm.generate", "autoglm.decode"} <= names
    assert collector.service_names() == {"autoglm"}
