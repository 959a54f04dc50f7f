"""Dependency-injection wiring: which backend, scheduler settings, registry and engine a server uses.

The backend is picked from configuration by a Selector; tests override providers instead of
monkeypatching (e.g. `container.backend.override(providers.Object(my_backend))`).
"""

from __future__ import annotations

from pathlib import Path

from dependency_injector import containers, providers

from autoglm_core.backends.base import Backend
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.cache import ResponseCache
from autoglm_core.errors import InvalidArgument
from autoglm_core.generation.conversation import ConversationBuilder
from autoglm_core.generation.engine import Engine
from autoglm_core.health.monitor import GenerationMonitor
from autoglm_core.memory.embedding import make_embedder
from autoglm_core.memory.knowledge import KnowledgeStore
from autoglm_core.memory.sessions import SessionStore
from autoglm_core.prompts.engine import PromptEngine
from autoglm_core.registry.control import ModelControl
from autoglm_core.registry.desired import DesiredState
from autoglm_core.registry.manager import BackendFactory, BackendSpec, ModelManager
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.registry.sync import RegistrySync
from autoglm_core.runtime.scheduler import SchedulerConfig
from autoglm_core.storage.database import Database, resolve_url
from autoglm_core.tools.agent import ToolBox, build_toolbox
from autoglm_core.tools.shared import SharedTools
from autoglm_core.users.ratelimit import Limiter, RateLimiter
from autoglm_core.users.shared_ratelimit import SharedRateLimiter
from autoglm_core.users.store import UserStore
from autoglm_core.wiring.settings import Settings


def _model_name_for(model: str, is_default: bool) -> str:
    """The name a model is served under when none is configured: its directory or file name."""
    if is_default:
        return "smollm2-135m-instruct"
    return Path(model.rstrip("/")).stem or model


def _transformers_backend(
    model: str,
    model_name: str,
    model_version: str,
    device: str,
    scheduler: SchedulerConfig,
    kv_cache_mb: int,
    quantization: str,
    prefix_cache_mb: int,
    max_resident_adapters: int,
    runner: str = "auto",
) -> Backend:
    # Imported here so that a mock server starts without importing torch.
    from autoglm_core.backends.transformers_backend import TransformersBackend
    from autoglm_core.models.default_model import is_default_alias, resolve_model_source

    return TransformersBackend(
        str(resolve_model_source(model)),
        name=model_name or _model_name_for(model, is_default_alias(model)),
        version=model_version,
        device=device,
        scheduler=scheduler,
        kv_cache_mb=kv_cache_mb,
        quantization=quantization,
        prefix_cache_mb=prefix_cache_mb,
        max_resident_adapters=max_resident_adapters,
        runner=runner,
    )


def _response_cache(registry: ModelRegistry, enabled: bool, size_mb: int, ttl_s: float) -> ResponseCache:
    """The response cache, told by the registry when a model's versions or traffic change."""
    cache = ResponseCache(enabled=enabled, max_bytes=size_mb << 20, ttl_s=ttl_s)
    registry.listeners.append(cache.invalidate)
    return cache


def _backend_factory(
    default_backend: str,
    device: str,
    scheduler: SchedulerConfig,
    kv_cache_mb: int,
    quantization: str,
    prefix_cache_mb: int,
    mock_token_latency_ms: float,
    max_resident_adapters: int,
    runner: str = "auto",
) -> BackendFactory:
    """Builds further versions at run time (LoadModel) and fresh ones for the watchdog's restarts."""

    def build(spec: BackendSpec) -> Backend:
        kind = spec.backend or default_backend
        if kind == "mock":
            behaviour = MockBehaviour(token_latency_s=mock_token_latency_ms / 1000)
            return MockBackend(
                name=spec.name or "mock", version=spec.version, behaviour=behaviour, scheduler=scheduler
            )
        if kind == "transformers":
            return _transformers_backend(
                spec.source,
                spec.name,
                spec.version,
                device,
                scheduler,
                kv_cache_mb,
                quantization,
                prefix_cache_mb,
                max_resident_adapters,
                runner,
            )
        raise InvalidArgument.one("backend", f"unknown backend {kind!r}; use transformers or mock")

    return build


def _rate_limiter(database: Database, per_minute: int) -> Limiter:
    """In memory for one process (SQLite); in the shared database when replicas share PostgreSQL."""
    if database.is_sqlite:
        return RateLimiter(per_minute)
    return SharedRateLimiter(database, per_minute)


def _shared_tools(tools: ToolBox, database: Database, mode: str, interval_s: float) -> SharedTools | None:
    """HTTP tools registered through any replica, on all: with the registry's sync."""
    if mode == "off" or (mode == "auto" and database.is_sqlite):
        return None
    return SharedTools(database, tools.registry, interval_s)


def _registry_sync(
    manager: ModelManager, database: Database, mode: str, interval_s: float
) -> RegistrySync | None:
    """The shared desired state of the registry: auto = with a shared database only."""
    if mode == "off" or (mode == "auto" and database.is_sqlite):
        return None
    return RegistrySync(manager, DesiredState(database), interval_s)


class Container(containers.DeclarativeContainer):
    """The object graph of one server."""

    config = providers.Configuration(strict=True)

    scheduler = providers.Factory(
        SchedulerConfig,
        max_running=config.max_running,
        max_queue=config.max_queue,
        queue_timeout_s=config.queue_timeout_s,
        aging_s=config.aging_s,
        max_step_tokens=config.max_step_tokens,
        chunk_tokens=config.chunk_tokens,
    )
    backend = providers.Selector(
        config.backend,
        mock=providers.Factory(
            MockBackend,
            name=config.model_name.as_(lambda name: name or "mock"),
            version=config.model_version,
            behaviour=providers.Factory(
                MockBehaviour, token_latency_s=config.mock_token_latency_ms.as_(lambda ms: ms / 1000)
            ),
            scheduler=scheduler,
        ),
        transformers=providers.Factory(
            _transformers_backend,
            model=config.model,
            model_name=config.model_name,
            model_version=config.model_version,
            device=config.device,
            scheduler=scheduler,
            kv_cache_mb=config.kv_cache_mb,
            quantization=config.quantization,
            prefix_cache_mb=config.prefix_cache_mb,
            max_resident_adapters=config.max_resident_adapters,
            runner=config.runner,
        ),
    )
    registry = providers.Singleton(ModelRegistry)
    monitor = providers.Singleton(GenerationMonitor)
    # Users, memory and prompts (issue 6): one database for users, keys, sessions and knowledge.
    database = providers.Singleton(
        Database, url=providers.Callable(resolve_url, config.database_url, config.data_dir)
    )
    users = providers.Singleton(UserStore, database=database)
    rate_limiter = providers.Singleton(
        _rate_limiter, database=database, per_minute=config.rate_limit_per_minute
    )
    sessions = providers.Singleton(SessionStore, database=database)
    embedder = providers.Singleton(make_embedder, config.embedder)
    knowledge = providers.Singleton(
        KnowledgeStore, database=database, embedder=embedder, min_score=config.knowledge_min_score
    )
    # Tools (issue 5); the router shares the knowledge cache's embedder (one MiniLM in memory).
    tools = providers.Singleton(
        build_toolbox,
        secrets=config.tool_secrets,
        allowlist=config.tool_allowlist,
        max_response_kb=config.tool_max_response_kb,
        timeout_s=config.tool_timeout_s,
        total_timeout_s=config.tool_total_timeout_s,
        max_iterations=config.max_tool_iterations,
        router=config.tool_router,
        embedder=embedder,
        modes=config.tool_modes,
        mcp_stdio_commands=config.mcp_stdio_commands,
        mcp_refresh_s=config.mcp_refresh_s,
    )
    prompts = providers.Singleton(PromptEngine, default=config.default_prompt_template)
    conversation = providers.Singleton(
        ConversationBuilder,
        prompts=prompts,
        sessions=sessions,
        knowledge=knowledge,
        knowledge_top_k=config.knowledge_top_k,
        history_limit=config.session_history_limit,
    )
    response_cache = providers.Singleton(
        _response_cache,
        registry=registry,
        enabled=config.response_cache,
        size_mb=config.response_cache_mb,
        ttl_s=config.response_cache_ttl_s,
    )
    engine = providers.Singleton(
        Engine,
        registry=registry,
        monitor=monitor,
        tools=tools,
        conversation=conversation,
        cache=response_cache,
    )
    backend_factory = providers.Singleton(
        _backend_factory,
        default_backend=config.backend,
        device=config.device,
        scheduler=scheduler,
        kv_cache_mb=config.kv_cache_mb,
        quantization=config.quantization,
        prefix_cache_mb=config.prefix_cache_mb,
        mock_token_latency_ms=config.mock_token_latency_ms,
        max_resident_adapters=config.max_resident_adapters,
        runner=config.runner,
    )
    manager = providers.Singleton(
        ModelManager,
        registry=registry,
        monitor=monitor,
        factory=backend_factory,
        drain_timeout_s=config.drain_timeout_s,
    )
    registry_sync = providers.Singleton(
        _registry_sync,
        manager=manager,
        database=database,
        mode=config.registry_sync,
        interval_s=config.registry_sync_interval_s,
    )
    model_control = providers.Singleton(ModelControl, manager=manager, sync=registry_sync)
    shared_tools = providers.Singleton(
        _shared_tools,
        tools=tools,
        database=database,
        mode=config.registry_sync,
        interval_s=config.registry_sync_interval_s,
    )


async def load_configured_model(container: Container, settings: Settings) -> Backend:
    """Loads the configured model and registers it (server and in-process AutoGLM alike)."""
    backend: Backend = container.backend()
    await backend.load()
    aliases = tuple(a for a in (settings.model,) if a != backend.info.name)
    # The spec lets the watchdog build a fresh backend for a restart.
    spec = BackendSpec(settings.model, backend.info.name, backend.info.version, settings.backend)
    container.manager().add(backend, spec, aliases=aliases)
    return backend


def build_container(settings: Settings) -> Container:
    container = Container()
    container.config.from_dict(settings.model_dump(mode="json"))
    return container
