"""Health, reflection, admission and graceful shutdown of a real server."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.wiring.container import build_container
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings
from tests.conftest import RunningServer, caller_ids, start_mock_server

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_not_serving_until_the_model_is_loaded() -> None:
    from dependency_injector import providers

    settings = ServerSettings(backend="mock", port=0)
    container = build_container(settings)
    container.backend.override(providers.Object(MockBackend(behaviour=MockBehaviour(load_latency_s=0.5))))
    server = AutoGLMServer(settings, container)
    starting = asyncio.create_task(server.start())
    while server.port == 0:
        await asyncio.sleep(0.01)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        service = "autoglm.v1.GenerationService"
        live = await health.Check(health_pb2.HealthCheckRequest(service=""))
        ready = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert (live.status, ready.status) == (SERVING, NOT_SERVING)
        await starting
        ready = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert ready.status == SERVING
    await server.stop(grace_s=0)


async def test_reflection_lists_every_service(mock_server: RunningServer) -> None:
    def list_services() -> list[str]:
        with grpc.insecure_channel(mock_server.target) as channel:
            return list(ProtoReflectionDescriptorDatabase(channel).get_services())

    services = await asyncio.to_thread(list_services)
    for name in ("Generation", "Model", "User", "Tool", "Memory"):
        assert f"autoglm.v1.{name}Service" in services
    assert "grpc.health.v1.Health" in services


async def test_list_and_get_models(mock_server: RunningServer) -> None:
    listed = await mock_server.client.list_models()
    assert listed.default_model == "mock"
    (model,) = listed.models
    assert model.name == "mock" and "openautoglm-base-v1" in model.aliases
    assert model.versions[0].traffic_weight == 100
    assert model.versions[0].context_length == 4096
    # The alias serves too.
    response = await mock_server.client.generate("x", model="openautoglm-base-v1", max_new_tokens=3)
    assert response.model.name == "mock"


async def test_full_queue_is_resource_exhausted_with_retry_info() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.05), max_running=1, max_queue=1)
    try:
        busy = [asyncio.create_task(running.client.generate("x", max_new_tokens=20)) for _ in range(2)]
        await asyncio.sleep(0.2)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running.client.generate("x", max_new_tokens=2)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
        assert status is not None
        assert any(d.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for d in status.details)
        done = await asyncio.gather(*busy)
        assert all(r.usage.completion_tokens == 20 for r in done)
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_higher_priority_waiters_start_first() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.02), max_running=1)
    try:
        first = asyncio.create_task(running.client.generate("x", max_new_tokens=10, request_id="running"))
        await asyncio.sleep(0.1)
        waiting = []
        for name, priority in (("bulk-1", 9), ("bulk-2", 9), ("urgent", 0), ("normal", 5)):
            waiting.append(
                asyncio.create_task(
                    running.client.generate("x", max_new_tokens=2, priority=priority, request_id=name)
                )
            )
            await asyncio.sleep(0.02)
        await asyncio.gather(first, *waiting)
        assert caller_ids(running.backend.started) == ["running", "urgent", "normal", "bulk-1", "bulk-2"]
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_graceful_shutdown_lets_streams_finish_and_refuses_new_calls() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.01))
    try:
        events = running.client.stream("x", max_new_tokens=60)
        first = await anext(aiter(events))
        assert first.HasField("content_delta")
        stopping = asyncio.create_task(running.server.stop(grace_s=5))
        rest = [e async for e in events]
        assert rest[-1].HasField("finished")
        assert rest[-1].finished.usage.completion_tokens == 60
        await stopping
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running.client.generate("x", max_new_tokens=2, timeout=2)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await running.client.close()
