"""OpenTelemetry tracing of the server: a span per RPC, exported by OTLP.

Off unless asked for (setting `tracing`, or OTEL_EXPORTER_OTLP_ENDPOINT in `auto` mode): then no
SDK is set up and the engine's spans are no-ops. When on, the exporter reads the standard OTEL_*
variables (endpoint, headers, protocol timeouts, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER). A W3C `traceparent` sent by a client becomes the parent of the RPC span.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import grpc
from opentelemetry import trace

log = logging.getLogger(__name__)

_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_HEALTH_SERVICE = "grpc.health.v1.Health"


def tracing_enabled(mode: str) -> bool:
    """mode is the `tracing` setting: on, off, or auto (on when an OTLP endpoint is configured)."""
    if mode == "auto":
        return any(os.environ.get(name) for name in _ENDPOINT_VARS)
    return mode == "on"


def setup_tracing(mode: str) -> Any | None:
    """Installs the SDK with an OTLP exporter; returns the provider to shut down, or None.

    When the process already has an SDK provider (an embedding application, or a test with an
    in-memory exporter) it is left in place and used.
    """
    if not tracing_enabled(mode):
        return None
    # Imported only when tracing is on, so that a server without it does not pay for the SDK.
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "autoglm"}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("tracing on: exporting spans by OTLP")
    return provider


def tracing_interceptor() -> grpc.aio.ServerInterceptor:
    """The server span of every RPC except health probes (which would bury real traces)."""
    from opentelemetry.instrumentation.grpc import aio_server_interceptor
    from opentelemetry.instrumentation.grpc.filters import negate, service_name

    interceptor: grpc.aio.ServerInterceptor = aio_server_interceptor(  # type: ignore[no-untyped-call]
        filter_=negate(service_name(_HEALTH_SERVICE))
    )
    return interceptor


def shutdown_tracing(provider: Any | None) -> None:
    """Flushes spans still buffered (at server stop)."""
    if provider is not None:
        provider.shutdown()
