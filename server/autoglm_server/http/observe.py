"""Metrics and traces of the HTTP API, as gRPC has them: a server span per request (a client's
W3C `traceparent` becomes its parent; the engine's spans nest under it) and a count and duration
per route and status. A plain ASGI middleware: it wraps streamed bodies without buffering them."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import propagate, trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoglm_server.observability.metrics import Metrics

_tracer = trace.get_tracer("autoglm.http")


class Observe:
    def __init__(self, app: ASGIApp, metrics: Metrics | None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        status = 500
        started = time.monotonic()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        name = f"{scope['method']} {scope['path']}"
        with _tracer.start_as_current_span(
            name, context=propagate.extract(headers), kind=trace.SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                route = _route(scope)
                span.update_name(f"{scope['method']} {route}")
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
                if self.metrics is not None:
                    self.metrics.http_requests.labels(route, str(status)).inc()
                    self.metrics.http_seconds.labels(route).observe(time.monotonic() - started)


def _route(scope: Scope) -> str:
    """The route's template (/v1/responses/{response_id}), so ids do not explode the labels."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
