"""Prometheus metrics of the HTTP API: a count and duration per route and status. A plain ASGI
middleware, so it wraps streamed bodies without buffering them. (Traces come from FastAPI's own
OpenTelemetry support: a server span per request under the client's `traceparent`, see server.py.)"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autoglm_server.observability.metrics import Metrics


class CountRequests:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts
        started = time.monotonic()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = _route(scope)
            self.metrics.http_requests.labels(route, str(status)).inc()
            self.metrics.http_seconds.labels(route).observe(time.monotonic() - started)


def _route(scope: Scope) -> str:
    """The route's template (/v1/responses/{response_id}), so ids do not explode the labels."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
