"""Shared fixtures: a real gRPC server on a free loopback port, wired by the real container."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from dependency_injector import providers

from autoglm_client import AsyncAutoGLMClient
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.wiring.container import build_container
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings

# Test servers serve no /metrics port unless a test asks for one (parallel runs would collide on 9464).
os.environ.setdefault("AUTOGLM_METRICS_PORT", "0")
# Test servers keep their database (users, sessions, knowledge) in a temporary directory, never in ~.
_DATA_ROOT = tempfile.mkdtemp(prefix="autoglm-tests-")
atexit.register(shutil.rmtree, _DATA_ROOT, ignore_errors=True)
os.environ.setdefault("AUTOGLM_DATA_DIR", _DATA_ROOT)


# Modules whose every test builds torch models or kernels: marked `torch`, so that the fast lane
# (`make test-fast`: -m "not model and not torch") leaves them out. Single tests carry the marker.
TORCH_MODULES = frozenset(
    {"test_transformers_backend", "test_native_linear", "test_native_attention", "test_linear_kernels"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py") in TORCH_MODULES:
            item.add_marker(pytest.mark.torch)


@dataclass
class RunningServer:
    server: AutoGLMServer
    backend: MockBackend
    client: AsyncAutoGLMClient

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"


async def start_mock_server(
    behaviour: MockBehaviour | None = None, backend: MockBackend | None = None, **settings: object
) -> RunningServer:
    """A server on the mock backend (`backend`, or a new one with `behaviour`); the backend object
    is kept so tests can look inside it."""
    # A fresh database per server, so sessions and knowledge never leak between tests.
    settings.setdefault("data_dir", tempfile.mkdtemp(dir=_DATA_ROOT))
    # Knowledge search is lexical unless a test asks for embeddings (loading MiniLM takes seconds).
    settings.setdefault("embedder", "lexical")
    config = ServerSettings(backend="mock", port=0, grace_period_s=2.0, **settings)  # type: ignore[arg-type]
    container = build_container(config)
    backend = backend or MockBackend(
        name="mock", behaviour=behaviour or MockBehaviour(), scheduler=container.scheduler()
    )
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


def caller_ids(call_ids: list[str]) -> list[str]:
    """The callers' x-request-ids in the server's call ids ("<caller id>/<server id>") a backend saw."""
    return [call_id.rsplit("/", 1)[0] for call_id in call_ids]
