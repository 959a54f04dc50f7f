"""Dependency-injection wiring: which backend, registry, admission and engine a server uses.

The backend is picked from configuration by a Selector; tests override providers instead of
monkeypatching (e.g. `container.backend.override(providers.Object(my_backend))`).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from autoglm_core.backends.base import Backend
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.generation.engine import Engine
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.scheduling.admission import AdmissionController
from autoglm_server.settings import Settings


def _transformers_backend(
    model: str, model_name: str, model_version: str, device: str, max_batch_size: int
) -> Backend:
    # Imported here so that a mock server starts without importing torch.
    from autoglm_core.backends.transformers_backend import TransformersBackend
    from autoglm_core.models.default_model import default_name_for, resolve_model_source

    return TransformersBackend(
        str(resolve_model_source(model)),
        name=model_name or default_name_for(model),
        version=model_version,
        device=device,
        max_batch_size=max_batch_size,
    )


class Container(containers.DeclarativeContainer):
    """The object graph of one server."""

    config = providers.Configuration(strict=True)

    backend = providers.Selector(
        config.backend,
        mock=providers.Factory(
            MockBackend,
            name=config.model_name.as_(lambda name: name or "mock"),
            version=config.model_version,
            behaviour=providers.Factory(
                MockBehaviour, token_latency_s=config.mock_token_latency_ms.as_(lambda ms: ms / 1000)
            ),
        ),
        transformers=providers.Factory(
            _transformers_backend,
            model=config.model,
            model_name=config.model_name,
            model_version=config.model_version,
            device=config.device,
            max_batch_size=config.max_batch_size,
        ),
    )
    registry = providers.Singleton(ModelRegistry)
    admission = providers.Singleton(
        AdmissionController,
        max_running=config.max_running,
        max_queue=config.max_queue,
        queue_timeout_s=config.queue_timeout_s,
    )
    engine = providers.Singleton(Engine, registry=registry, admission=admission)


def build_container(settings: Settings) -> Container:
    container = Container()
    container.config.from_dict(settings.model_dump(mode="json"))
    return container
