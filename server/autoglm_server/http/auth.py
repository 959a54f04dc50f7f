"""Who is calling over HTTP: the same API keys, admission and rate limit as gRPC.

`Authorization: Bearer <api key>` (what the OpenAI SDKs send from `api_key`). Every /v1 route
depends on `caller`, which also refuses calls (503) while the server is not ready.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from autoglm_core import errors
from autoglm_server.auth import Caller, admit, set_caller
from autoglm_server.http.context import ApiContext


def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.api
    return context


def bearer(header: str) -> str:
    scheme, _, secret = header.strip().partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


async def caller(request: Request) -> Caller:
    """The authenticated caller of a request, after its rate limit (a FastAPI dependency)."""
    api = context_of(request)
    if not api.ready:
        raise errors.NotReady("the server is starting or draining; retry shortly")
    who = await admit(
        api.users, api.limiter, api.auth_enabled, bearer(request.headers.get("authorization", ""))
    )
    set_caller(who)
    return who


CallerDep = Annotated[Caller, Depends(caller)]
