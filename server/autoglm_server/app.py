"""Builds and runs the gRPC server: servicers, health, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from autoglm.v1 import (
    generation_pb2,
    generation_pb2_grpc,
    memory_pb2,
    memory_pb2_grpc,
    model_pb2,
    model_pb2_grpc,
    tool_pb2,
    tool_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from autoglm_core.backends.base import Backend
from autoglm_core.wiring.container import Container, build_container, load_configured_model
from autoglm_server.auth import AuthInterceptor, check_exposure
from autoglm_server.http.server import HttpApi
from autoglm_server.operations import Operations
from autoglm_server.request_guard import RequestGuard
from autoglm_server.server_settings import ServerSettings
from autoglm_server.services.generation import GenerationService
from autoglm_server.services.memory import MemoryService
from autoglm_server.services.model import ModelService
from autoglm_server.services.tool import ToolService
from autoglm_server.services.user import UserService
from autoglm_server.slow_readers import quiet_ended_calls

log = logging.getLogger(__name__)

SERVICE_NAMES = [
    generation_pb2.DESCRIPTOR.services_by_name["GenerationService"].full_name,
    model_pb2.DESCRIPTOR.services_by_name["ModelService"].full_name,
    user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name,
    tool_pb2.DESCRIPTOR.services_by_name["ToolService"].full_name,
    memory_pb2.DESCRIPTOR.services_by_name["MemoryService"].full_name,
]
OVERALL = ""  # the health "service" that means the whole server


class AutoGLMServer:
    """One server process: start() binds and loads the model, stop() drains and frees it."""

    def __init__(self, settings: ServerSettings, container: Container | None = None) -> None:
        self.settings = settings
        self.container = container or build_container(settings)
        self.health = health_aio.HealthServicer()
        self.port = 0
        self._server: grpc.aio.Server | None = None
        # Tracing, metrics and the self-healing watchdog.
        self.ops = Operations(settings, self.container, self.health)
        # The OpenAI-compatible HTTP API over the same engine (setting http_port).
        self.http: HttpApi | None = None
        if settings.http_port is not None:
            self.http = HttpApi.from_container(self.container, settings, self.ops.metrics)

    async def start(self) -> int:
        """Serves health (NOT_SERVING) at once, loads the model, then turns SERVING."""
        check_exposure(self.settings)
        quiet_ended_calls()
        await self._init_storage()
        # Innermost last: the request guard sees each body first, so the others count its refusals.
        interceptors = [*self.ops.interceptors(), *self._auth_interceptors(), RequestGuard()]
        server = grpc.aio.server(options=self._channel_options(), interceptors=interceptors)
        self._add_services(server)
        self.port = self._bind(server)
        # Live at once (""), ready (each service) only once the model is loaded and warm.
        await self._set_health([OVERALL], health_pb2.HealthCheckResponse.SERVING)
        await self._set_health(SERVICE_NAMES, health_pb2.HealthCheckResponse.NOT_SERVING)
        await server.start()
        self._server = server
        self.ops.start()
        if self.http is not None:
            await self.http.start()  # answers 503 until ready
        log.info("listening on %s:%d; loading the model", self.settings.host, self.port)
        await self._load_models()
        await self._set_health(SERVICE_NAMES, health_pb2.HealthCheckResponse.SERVING)
        if self.http is not None:
            self.http.set_ready(True)
        self.ops.start_watchdog()
        log.info("ready")
        return self.port

    async def drain(self, delay_s: float | None = None) -> None:
        """Readiness NOT_SERVING while calls are still accepted, for `drain_delay_s`: load
        balancers see it and move traffic away before the listener closes."""
        await self._set_health(SERVICE_NAMES, health_pb2.HealthCheckResponse.NOT_SERVING)
        delay = self.settings.drain_delay_s if delay_s is None else delay_s
        if delay > 0:
            log.info("draining: not ready, still accepting calls for %.1fs", delay)
            await asyncio.sleep(delay)

    async def stop(self, grace_s: float | None = None) -> None:
        """Refuses new calls, lets in-flight calls finish within the grace period, frees models."""
        # Draining: load balancers stop sending new calls while in-flight ones finish.
        await self._set_health(SERVICE_NAMES, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.ops.stop_watchdog()  # no backend restarts during shutdown
        for shared in (self.container.registry_sync(), self.container.shared_tools()):
            if shared is not None:
                await shared.stop()
        stopping = [self.http.stop()] if self.http is not None else []
        if self._server is not None:
            stopping.append(self._server.stop(self.settings.grace_period_s if grace_s is None else grace_s))
        await asyncio.gather(*stopping)
        await self.health.enter_graceful_shutdown()
        await self.container.manager().close_all()
        await self.container.tools().close()  # MCP sessions and stdio server processes
        self.ops.close()  # after the drain: the last calls' spans and metrics still count
        await self._close_storage()

    async def wait(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    async def _load_models(self) -> None:
        backend = await load_configured_model(self.container, self.settings)
        await self._warm_tool_router(backend)
        sync = self.container.registry_sync()
        if sync is not None:  # replicas: take the shared desired state before reporting ready
            await sync.start(self.container.manager().spec(backend.info.name, backend.info.version))
        tools = self.container.shared_tools()
        if tools is not None:
            await tools.start()

    async def _warm_tool_router(self, backend: Backend) -> None:
        """A model that takes tools through the router needs its embedding model: load it now
        (seconds), before the server reports ready, not on a user's first request."""
        tools = self.container.tools()
        if tools.router is not None and tools.mode_for(backend) == "router":
            await asyncio.to_thread(tools.router.warm)

    def _add_services(self, server: grpc.aio.Server) -> None:
        engine = self.container.engine()
        generation = GenerationService(engine, write_timeout_s=self.settings.stream_write_timeout_s)
        generation_pb2_grpc.add_GenerationServiceServicer_to_server(generation, server)
        models = ModelService(self.container.model_control())  # type: ignore[abstract]
        model_pb2_grpc.add_ModelServiceServicer_to_server(models, server)
        c = self.container
        users = UserService(c.users(), c.sessions(), c.knowledge())
        tools = ToolService(self.container.tools(), self.container.shared_tools())
        memory = MemoryService(c.sessions(), c.knowledge())
        user_pb2_grpc.add_UserServiceServicer_to_server(users, server)
        tool_pb2_grpc.add_ToolServiceServicer_to_server(tools, server)
        memory_pb2_grpc.add_MemoryServiceServicer_to_server(memory, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        names = [*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)

    async def _init_storage(self) -> None:
        """Creates missing tables and the bootstrap admin before any call can arrive."""
        database = self.container.database()
        if self.settings.check_database:
            await asyncio.to_thread(database.check_integrity)
        await asyncio.to_thread(database.ensure_schema)
        if self.settings.admin_key is not None:
            await self.container.users().ensure_admin_key(self.settings.admin_key.get_secret_value())

    async def _close_storage(self) -> None:
        self.container.knowledge().close()
        await asyncio.to_thread(self.container.database().close)

    def _auth_interceptors(self) -> list[grpc.aio.ServerInterceptor]:
        """Authentication and rate limits; none at all when both are off."""
        limiter = self.container.rate_limiter()
        if not self.settings.auth_enabled and not limiter.enabled:
            return []
        return [AuthInterceptor(self.container.users(), limiter, enabled=self.settings.auth_enabled)]

    def _bind(self, server: grpc.aio.Server) -> int:
        address = f"{self.settings.host}:{self.settings.port}"
        try:
            port = server.add_insecure_port(address)
        except RuntimeError as error:  # grpc's way of saying the bind failed
            port, detail = 0, str(error)
        else:
            detail = ""
        if port == 0:
            raise OSError(
                f"cannot listen on {address}: the port is in use or not ours to take {detail}".strip()
            )
        return port

    def _channel_options(self) -> list[tuple[str, int]]:
        limit = self.settings.max_message_mb * 1024 * 1024
        return [
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            # Never share a port with another process: a second server on it must fail to start,
            # not silently take half of the new connections.
            ("grpc.so_reuseport", 0),
        ]

    async def _set_health(
        self, names: list[str], status: health_pb2.HealthCheckResponse.ServingStatus.ValueType
    ) -> None:
        for name in names:
            await self.health.set(name, status)


async def serve(settings: ServerSettings) -> None:
    """Runs until SIGTERM or SIGINT, then shuts down gracefully.

    SIGTERM (an orchestrator) first drains: not ready, still accepting, for drain_delay_s. SIGINT
    (a person at a terminal) skips that wait.
    """
    server = AutoGLMServer(settings)
    stop = asyncio.Event()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await server.start()
    except BaseException:
        await server.stop(grace_s=0)  # release the port and the gRPC core before reporting
        raise
    settle_garbage_collector()
    http = f" (OpenAI-compatible HTTP API on {settings.host}:{server.http.port})" if server.http else ""
    # One write: log lines come from a thread of their own and must not land inside it.
    sys.stdout.write(f"autoglm: serving on {settings.host}:{server.port}{http}\n")
    sys.stdout.flush()
    await stop.wait()
    if received[0] is signal.SIGTERM:
        await server.drain()
    log.info("shutting down; in-flight calls get %.1fs", settings.grace_period_s)
    await server.stop()


def settle_garbage_collector() -> None:
    """Moves everything alive once the server is up (modules, the model, the gRPC and HTTP stacks)
    out of the collector's reach: a full collection then scans only what requests create, instead of
    pausing every caller while it walks the whole heap. For the serving process only: in a process
    that embeds the engine, the embedder decides."""
    gc.collect()
    gc.freeze()
