"""Reading call metadata shared by the servicers."""

from __future__ import annotations

from typing import Any

import grpc

REQUEST_ID_KEY = "x-request-id"
MAX_REQUEST_ID_CHARS = 128


def request_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The caller's x-request-id, or "" (the engine then names the call with its own id).

    Only echoed in the response and logged: the server keys its bookkeeping by an id of its own.
    """
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID_CHARS:
            return value
    return ""
