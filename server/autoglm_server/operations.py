"""What runs around the servicers: tracing, the metrics endpoint and the self-healing watchdog.

AutoGLMServer calls `interceptors()` when it builds the gRPC server, `start()` once it listens,
`start_watchdog()` once the models are loaded, `stop_watchdog()` when shutdown begins and `close()`
once the last calls have drained.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio

from autoglm.v1 import generation_pb2
from autoglm_core.health.watchdog import Watchdog, WatchdogConfig
from autoglm_core.wiring.container import Container
from autoglm_server.observability.cache_metrics import ResponseCacheCollector
from autoglm_server.observability.metrics import Metrics
from autoglm_server.observability.tracing import (
    setup_tracing,
    shutdown_tracing,
    tracing_enabled,
    tracing_interceptor,
)
from autoglm_server.server_settings import ServerSettings

log = logging.getLogger(__name__)

# The services that need a working backend: NOT_SERVING while one is restarted.
BACKEND_SERVICES = [generation_pb2.DESCRIPTOR.services_by_name["GenerationService"].full_name]


class HealthFlags:
    """The watchdog's HealthListener: flips the readiness of the services that need a backend."""

    def __init__(self, health: health_aio.HealthServicer) -> None:
        self._health = health

    async def degraded(self, reason: str) -> None:
        log.warning("not serving while a backend restarts: %s", reason)
        await self._set(health_pb2.HealthCheckResponse.NOT_SERVING)

    async def recovered(self) -> None:
        log.info("serving again")
        await self._set(health_pb2.HealthCheckResponse.SERVING)

    async def _set(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        for name in BACKEND_SERVICES:
            await self._health.set(name, status)


class Operations:
    """Tracing, metrics and the watchdog of one server."""

    def __init__(
        self, settings: ServerSettings, container: Container, health: health_aio.HealthServicer
    ) -> None:
        self.settings = settings
        self.container = container
        self.metrics = Metrics()
        self.metrics_port = 0
        self.watchdog = Watchdog(
            container.manager(),
            container.monitor(),
            _watchdog_config(settings),
            listener=HealthFlags(health),
            on_event=self.metrics.heal_event,
            control=container.model_control(),
        )
        self._tracer_provider: Any | None = None

    def interceptors(self) -> list[grpc.aio.ServerInterceptor]:
        """Outermost first: the RPC span must exist before the metrics interceptor tags it."""
        chain: list[grpc.aio.ServerInterceptor] = []
        if tracing_enabled(self.settings.tracing):
            self._tracer_provider = setup_tracing(self.settings.tracing)
            chain.append(tracing_interceptor())
        chain.append(self.metrics.interceptor())
        return chain

    def start(self) -> None:
        """Subscribes metrics to the engine and serves /metrics (before the model loads)."""
        self.metrics.watch(self.container.monitor(), self.container.registry())
        self.metrics.registry.register(ResponseCacheCollector(self.container.response_cache()))
        if self.settings.metrics_port:
            host, port = self.settings.host, self.settings.metrics_port
            try:
                self.metrics_port = self.metrics.serve(host, port)
            except OSError as error:
                hint = "--metrics-port 0 turns it off"
                raise OSError(f"cannot serve metrics on {host}:{port} ({error}); {hint}") from error
            log.info("metrics on http://%s:%d/metrics", host, self.metrics_port)

    def start_watchdog(self) -> None:
        self.watchdog.start()

    async def stop_watchdog(self) -> None:
        await self.watchdog.stop()

    def close(self) -> None:
        """Stops serving /metrics and flushes the spans still buffered."""
        self.metrics.close()
        shutdown_tracing(self._tracer_provider)
        self._tracer_provider = None


def _watchdog_config(settings: ServerSettings) -> WatchdogConfig:
    return WatchdogConfig(
        interval_s=settings.watchdog_interval_s,
        stall_s=settings.watchdog_stall_s,
        max_errors=settings.watchdog_max_errors,
        canary_error_rate=settings.canary_error_rate,
        canary_window_s=settings.canary_window_s,
        canary_min_calls=settings.canary_min_calls,
    )
