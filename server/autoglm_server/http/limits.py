"""The largest request body the HTTP API reads (max_message_mb, as for gRPC messages): a larger one,
or one of unknown length, is refused before it is read."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


class LimitBody:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is None and headers.get(b"transfer-encoding"):
            await _refuse(send, 411, "send the body with a Content-Length")
        elif length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _refuse(send, 413, f"the request body is larger than {self.max_bytes} bytes")
        else:
            await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps(
        {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})
