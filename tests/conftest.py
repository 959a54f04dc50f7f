"""Shared fixtures: a real gRPC server on a free loopback port, wired by the real container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from dependency_injector import providers

from autoglm_client import AsyncAutoGLMClient
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_server.app import AutoGLMServer
from autoglm_server.container import build_container
from autoglm_server.settings import Settings


@dataclass
class RunningServer:
    server: AutoGLMServer
    backend: MockBackend
    client: AsyncAutoGLMClient

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"


async def start_mock_server(behaviour: MockBehaviour | None = None, **settings: object) -> RunningServer:
    """A server on the mock backend; the backend object is kept so tests can look inside it."""
    config = Settings(backend="mock", port=0, grace_period_s=2.0, **settings)  # type: ignore[arg-type]
    container = build_container(config)
    backend = MockBackend(name="mock", behaviour=behaviour or MockBehaviour())
    container.backend.override(providers.Object(backend))
    server = AutoGLMServer(config, container)
    await server.start()
    client = AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=30)
    return RunningServer(server, backend, client)


@pytest.fixture
async def mock_server() -> AsyncIterator[RunningServer]:
    running = await start_mock_server()
    yield running
    await running.client.close()
    await running.server.stop(grace_s=0)
