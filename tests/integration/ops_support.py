"""Servers for the operations tests: mock backends whose later versions (LoadModel, restarts) the
test shapes through the container's backend_factory."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from dependency_injector import providers

from autoglm_client import AsyncAutoGLMClient
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.registry.manager import BackendSpec
from autoglm_core.wiring.container import build_container
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings


@dataclass
class OpsServer:
    server: AutoGLMServer
    backend: MockBackend
    client: AsyncAutoGLMClient
    # Every backend the factory built, in order (LoadModel and watchdog restarts).
    built: list[MockBackend] = field(default_factory=list)

    async def close(self) -> None:
        await self.client.close()
        await self.server.stop(grace_s=0)


async def start_ops_server(
    behaviour: MockBehaviour | None = None,
    later: Callable[[BackendSpec], MockBehaviour] | None = None,
    **settings: object,
) -> OpsServer:
    """A mock server; `later(spec)` gives the behaviour of each backend the factory builds."""
    config = ServerSettings(backend="mock", port=0, grace_period_s=2.0, **settings)  # type: ignore[arg-type]
    container = build_container(config)
    backend = MockBackend(
        name="mock", behaviour=behaviour or MockBehaviour(), scheduler=container.scheduler()
    )
    container.backend.override(providers.Object(backend))
    built: list[MockBackend] = []

    def factory(spec: BackendSpec) -> MockBackend:
        shaped = later(spec) if later else MockBehaviour()
        made = MockBackend(
            name=spec.name, version=spec.version, behaviour=shaped, scheduler=container.scheduler()
        )
        built.append(made)
        return made

    container.backend_factory.override(providers.Object(factory))
    server = AutoGLMServer(config, container)
    await server.start()
    client = AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=30)
    return OpsServer(server, backend, client, built)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
