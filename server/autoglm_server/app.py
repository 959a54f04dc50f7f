"""Builds and runs the gRPC server: servicers, health, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal

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
from autoglm_server.container import Container, build_container
from autoglm_server.services.generation import GenerationService
from autoglm_server.services.model import ModelService
from autoglm_server.settings import Settings

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

    def __init__(self, settings: Settings, container: Container | None = None) -> None:
        self.settings = settings
        self.container = container or build_container(settings)
        self.health = health_aio.HealthServicer()
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._backends: list[Backend] = []

    async def start(self) -> int:
        """Serves health (NOT_SERVING) at once, loads the model, then turns SERVING."""
        server = grpc.aio.server(options=self._channel_options())
        self._add_services(server)
        self.port = server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        if self.port == 0:
            raise OSError(f"cannot listen on {self.settings.host}:{self.settings.port}")
        # Live at once (""), ready (each service) only once the model is loaded and warm.
        await self._set_health([OVERALL], health_pb2.HealthCheckResponse.SERVING)
        await self._set_health(SERVICE_NAMES, health_pb2.HealthCheckResponse.NOT_SERVING)
        await server.start()
        self._server = server
        log.info("listening on %s:%d; loading the model", self.settings.host, self.port)
        await self._load_models()
        await self._set_health(SERVICE_NAMES, health_pb2.HealthCheckResponse.SERVING)
        log.info("ready")
        return self.port

    async def stop(self, grace_s: float | None = None) -> None:
        """Refuses new calls, lets in-flight calls finish within the grace period, frees models."""
        # Draining: load balancers stop sending new calls while in-flight ones finish.
        await self._set_health(SERVICE_NAMES, health_pb2.HealthCheckResponse.NOT_SERVING)
        if self._server is not None:
            await self._server.stop(self.settings.grace_period_s if grace_s is None else grace_s)
        await self.health.enter_graceful_shutdown()
        for backend in self._backends:
            await backend.close()
        self._backends.clear()

    async def wait(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    async def _load_models(self) -> None:
        backend: Backend = self.container.backend()
        await backend.load()
        self._backends.append(backend)
        aliases = tuple(a for a in (self.settings.model,) if a != backend.info.name)
        self.container.registry().add(backend, aliases=aliases)

    def _add_services(self, server: grpc.aio.Server) -> None:
        engine = self.container.engine()
        generation_pb2_grpc.add_GenerationServiceServicer_to_server(GenerationService(engine), server)
        model_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(engine.registry), server)  # type: ignore[abstract]
        # Contracts whose implementations land later answer UNIMPLEMENTED (generated base classes).
        # (mypy-protobuf marks their methods abstract; the base classes answer UNIMPLEMENTED.)
        users = user_pb2_grpc.UserServiceServicer()  # type: ignore[abstract]
        tools = tool_pb2_grpc.ToolServiceServicer()  # type: ignore[abstract]
        memory = memory_pb2_grpc.MemoryServiceServicer()  # type: ignore[abstract]
        user_pb2_grpc.add_UserServiceServicer_to_server(users, server)
        tool_pb2_grpc.add_ToolServiceServicer_to_server(tools, server)
        memory_pb2_grpc.add_MemoryServiceServicer_to_server(memory, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        names = [*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)

    def _channel_options(self) -> list[tuple[str, int]]:
        limit = self.settings.max_message_mb * 1024 * 1024
        return [("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]

    async def _set_health(
        self, names: list[str], status: health_pb2.HealthCheckResponse.ServingStatus.ValueType
    ) -> None:
        for name in names:
            await self.health.set(name, status)


async def serve(settings: Settings) -> None:
    """Runs until SIGTERM or SIGINT, then shuts down gracefully."""
    server = AutoGLMServer(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"autoglm: serving on {settings.host}:{server.port}", flush=True)
    await stop.wait()
    log.info("shutting down; in-flight calls get %.1fs", settings.grace_period_s)
    await server.stop()
