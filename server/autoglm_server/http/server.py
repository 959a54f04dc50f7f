"""The OpenAI-compatible HTTP API: a FastAPI app served by uvicorn inside the gRPC server's event
loop, over the same engine, users, keys, rate limits, metrics and traces.

AutoGLMServer calls `start()` once gRPC listens (the API answers 503 until `set_ready(True)`),
`set_ready(False)` when draining and `stop()` on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from autoglm_core.memory.responses import ResponseStore
from autoglm_core.wiring.container import Container
from autoglm_server.http import chat, completions, embeddings, errors, models, responses
from autoglm_server.http.context import ApiContext
from autoglm_server.http.limits import LimitBody
from autoglm_server.http.observe import CountRequests
from autoglm_server.observability.metrics import Metrics
from autoglm_server.server_settings import ServerSettings

log = logging.getLogger(__name__)
DAY_S = 86400


def build_app(context: ApiContext, metrics: Metrics | None = None, max_body_mb: int = 16) -> FastAPI:
    app = FastAPI(
        title="Open-AutoGLM OpenAI-compatible API",
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry server span per request (a client's traceparent is its parent;
        # the engine's spans nest under it), on the provider the server set up when tracing is on.
        # Metrics are Prometheus' (CountRequests), logs the server's own.
        telemetry={"tracing": True, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.api = context
    errors.install(app)
    for module in (chat, completions, models, embeddings, responses):
        app.include_router(module.router)
    app.add_middleware(LimitBody, max_bytes=max_body_mb * 1024 * 1024)
    if metrics is not None:
        app.add_middleware(CountRequests, metrics=metrics)
    return app


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process's own signal handlers (autoglm serve) stop this server with the gRPC one.
        yield


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a taken port is a plain OSError (uvicorn itself
    would exit the process)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it a response's second write waits for the client's delayed ACK (40 ms per keep-alive call).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot serve the HTTP API on {host}:{port} ({error})") from error
    sock.set_inheritable(True)
    return sock


class HttpApi:
    """One uvicorn server for the routes of one AutoGLMServer."""

    def __init__(
        self,
        context: ApiContext,
        host: str,
        port: int,
        metrics: Metrics | None = None,
        grace_s: float = 10.0,
        max_body_mb: int = 16,
    ) -> None:
        self.context = context
        self.app = build_app(context, metrics, max_body_mb)
        self._host, self._requested_port, self._grace_s = host, port, grace_s
        self.port = 0
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_container(
        cls, container: Container, settings: ServerSettings, metrics: Metrics | None
    ) -> HttpApi:
        assert settings.http_port is not None
        context = ApiContext(
            engine=container.engine(),
            users=container.users(),
            limiter=container.rate_limiter(),
            auth_enabled=settings.auth_enabled,
            responses=ResponseStore(container.database(), settings.response_retention_days * DAY_S),
            shared_embedder=container.embedder(),
        )
        return cls(
            context,
            settings.host,
            settings.http_port,
            metrics,
            settings.grace_period_s,
            settings.max_message_mb,
        )

    async def start(self) -> int:
        sock = _bind(self._host, self._requested_port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # the server's logging stays as configured
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=max(1, round(self._grace_s)),
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():  # failed to start: raise its error
                await self._task
                raise OSError("the HTTP API stopped while starting")
            await asyncio.sleep(0.005)
        log.info("OpenAI-compatible HTTP API on http://%s:%d/v1", self._host, self.port)
        return self.port

    def set_ready(self, ready: bool) -> None:
        self.context.ready = ready

    async def stop(self) -> None:
        """Refuses new requests; in-flight ones get the grace period, then are cancelled."""
        self.context.ready = False
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None
