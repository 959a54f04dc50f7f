"""Engine errors -> OpenAI's error JSON with the matching HTTP status.

`{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`: the official SDKs raise their
typed exceptions (BadRequestError, AuthenticationError, NotFoundError, RateLimitError, ...) from the
status and read `param` and `code` from the body. A full queue or a rate limit answers 429 with
Retry-After, which the SDKs honour when they retry.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from autoglm_core import errors

log = logging.getLogger(__name__)

# (engine error, HTTP status, OpenAI error type); the first match wins.
_STATUS: list[tuple[type[errors.EngineError], int, str]] = [
    (errors.InvalidArgument, 400, "invalid_request_error"),
    (errors.Unauthenticated, 401, "authentication_error"),
    (errors.PermissionDenied, 403, "permission_error"),
    (errors.NotFound, 404, "not_found_error"),
    (errors.AlreadyExists, 409, "conflict_error"),
    (errors.FailedPrecondition, 409, "conflict_error"),
    (errors.QueueFull, 429, "rate_limit_exceeded"),
    (errors.NotReady, 503, "service_unavailable"),
    (errors.BackendFailure, 503, "service_unavailable"),
    (errors.DeadlineExceeded, 504, "timeout"),
]

# Engine field paths (as the gRPC contract names them) -> the OpenAI request field.
_PARAMS = {
    "prompt": "messages",
    "conversation.messages": "messages",
    "sampling.temperature": "temperature",
    "sampling.top_p": "top_p",
    "sampling.top_k": "top_k",
    "sampling.max_new_tokens": "max_tokens",
    "sampling.min_new_tokens": "min_tokens",
    "sampling.repetition_penalty": "repetition_penalty",
    "sampling.seed": "seed",
    "sampling.stop": "stop",
    "thinking.budget_tokens": "thinking_budget",
    "allowed_tools": "allowed_tools",
}


class ClientGone(Exception):
    """The client closed the connection before the answer was ready: nobody reads the reply."""


def openai_param(field: str, renames: dict[str, str] | None = None) -> str:
    """The request field an engine field path stands for (e.g. sampling.top_p -> top_p)."""
    table = {**_PARAMS, **(renames or {})}
    for engine_name, name in sorted(table.items(), key=lambda item: -len(item[0])):
        if field == engine_name or field.startswith((engine_name + ".", engine_name + "[")):
            return name + field[len(engine_name) :]
    return field


def error_body(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def describe(error: Exception, renames: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """HTTP status and OpenAI error body of an error (500 for one that is not an engine error)."""
    if not isinstance(error, errors.EngineError):
        log.error("unexpected error in an HTTP request", exc_info=error)
        return 500, error_body("internal error; see the server log", "server_error")
    status, kind = next(((s, k) for cls, s, k in _STATUS if isinstance(error, cls)), (500, "server_error"))
    param: str | None = None
    code: str | None = None
    message = str(error)
    if isinstance(error, errors.InvalidArgument) and error.violations:
        params = [openai_param(v.field, renames) for v in error.violations]
        param = params[0]
        message = "; ".join(f"{p}: {v.description}" for p, v in zip(params, error.violations, strict=True))
    elif isinstance(error, errors.NotFound):
        code = (
            "model_not_found"
            if error.kind.startswith("model")
            else f"{error.kind.replace(' ', '_')}_not_found"
        )
    elif isinstance(error, errors.Unauthenticated):
        code = "invalid_api_key"
    elif isinstance(error, errors.QueueFull):
        code = "rate_limit_exceeded"
    return status, error_body(message, kind, param, code)


def error_response(error: Exception, renames: dict[str, str] | None = None) -> JSONResponse:
    if isinstance(error, ClientGone):
        return JSONResponse(error_body("client closed the request", "cancelled"), status_code=499)
    status, body = describe(error, renames)
    headers = {}
    if isinstance(error, errors.QueueFull):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_s)))
    elif status == 503:
        headers["Retry-After"] = "1"
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_param(location: tuple[Any, ...]) -> str | None:
    """`("body", "messages", 0, "role")` -> `messages[0].role`."""
    parts = [p for p in location if p != "body"]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


async def _on_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        body = error_body("the request body is not valid JSON", "invalid_request_error")
        return JSONResponse(body, status_code=400)
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    param = _validation_param(tuple(first.get("loc", ())))
    message = "; ".join(
        f"{_validation_param(tuple(p.get('loc', ()))) or 'body'}: {p.get('msg')}" for p in problems
    )
    return JSONResponse(
        error_body(message or "invalid request", "invalid_request_error", param), status_code=400
    )


async def _on_engine_error(request: Request, error: Exception) -> JSONResponse:
    return error_response(error)


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    kind = "not_found_error" if error.status_code == 404 else "invalid_request_error"
    return JSONResponse(error_body(str(error.detail), kind), status_code=error.status_code)


def install(app: FastAPI) -> None:
    """Every error of the app answers in OpenAI's shape."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(errors.EngineError, _on_engine_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_engine_error)  # a bug: 500, logged, never a traceback
