"""Authentication, admin checks and per-user rate limits: one aio server interceptor.

With auth on, every RPC but health and reflection needs `authorization: Bearer <api key>`. The
caller (user id, admin flag) is put in a context variable that servicers read with
`current_caller()`: gRPC runs the interceptors and the handler of one call in the same
contextvars.Context, and every call in its own task, so the value never leaks between calls.
With auth off every caller is the anonymous user "" and may do everything.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from grpc_status import rpc_status

from autoglm_core import errors
from autoglm_core.users.ratelimit import Limiter
from autoglm_core.users.store import UserStore
from autoglm_server.errors import end_call, status_for
from autoglm_server.server_settings import ServerSettings

log = logging.getLogger(__name__)

AUTHORIZATION_KEY = "authorization"
MIN_ADMIN_KEY_CHARS = 16
_OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
ADMIN_METHODS = frozenset(
    [
        *(
            f"/autoglm.v1.UserService/{name}"
            for name in (
                "CreateUser",
                "UpdateUser",
                "DeleteUser",
                "ListUsers",
                "CreateApiKey",
                "ListApiKeys",
                "RevokeApiKey",
            )
        ),
        "/autoglm.v1.ModelService/LoadModel",
        "/autoglm.v1.ModelService/UnloadModel",
        "/autoglm.v1.ModelService/SetTrafficSplit",
        "/autoglm.v1.ModelService/PromoteModelVersion",
        "/autoglm.v1.ModelService/RollbackTrafficSplit",
        "/autoglm.v1.ToolService/RegisterTool",
        "/autoglm.v1.ToolService/DeleteTool",
        # Least privilege: an HTTP tool an admin registered may reach hosts on the allowlist (and
        # send the server's secrets); invoking it directly, with arguments of the caller's choosing,
        # is an admin's act. Users reach tools through generation (allowed_tools), where the model
        # fills in the arguments and the tool's schema checks them.
        "/autoglm.v1.ToolService/InvokeTool",
        # An MCP server is code or a network peer that the model's calls will reach: an admin's act.
        "/autoglm.v1.ToolService/RegisterMcpServer",
        "/autoglm.v1.ToolService/DeleteMcpServer",
    ]
)


@dataclass(frozen=True)
class Caller:
    """Who is calling. user_id "" is the anonymous caller of a server without auth."""

    user_id: str
    admin: bool


ANONYMOUS = Caller(user_id="", admin=True)
_caller: ContextVar[Caller] = ContextVar("autoglm_caller", default=ANONYMOUS)


def current_caller() -> Caller:
    return _caller.get()


def require_self_or_admin(user_id: str) -> None:
    """For RPCs a user may call about itself (GetUser): others' records need an admin."""
    caller = current_caller()
    if not caller.admin and caller.user_id != user_id:
        raise errors.PermissionDenied("only an admin may read another user")


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: ServerSettings) -> None:
    """Refuses to serve everyone without auth, unless told to; warns whenever auth is off."""
    if settings.auth_enabled:
        if settings.admin_key is None:
            log.warning("auth is on without admin_key: only API keys already in the database work")
        elif len(settings.admin_key.get_secret_value()) < MIN_ADMIN_KEY_CHARS:
            log.warning("admin_key is shorter than %d characters: easy to guess", MIN_ADMIN_KEY_CHARS)
        return
    log.warning("authentication is disabled: every caller may do everything (set auth_enabled)")
    if not is_loopback(settings.host) and not settings.allow_insecure_remote:
        raise errors.FailedPrecondition(
            f"refusing to listen on {settings.host} without authentication: set auth_enabled "
            "(and admin_key), or allow_insecure_remote to accept the risk"
        )


def _bearer(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == AUTHORIZATION_KEY and isinstance(value, str):
            scheme, _, secret = value.strip().partition(" ")
            if scheme.lower() == "bearer":
                return secret.strip()
    return ""


if TYPE_CHECKING:  # grpc's classes are generic only in the type stubs
    Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]]


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates (when enabled), checks admin RPCs and applies the rate limit."""

    def __init__(self, users: UserStore, limiter: Limiter, *, enabled: bool) -> None:
        self._users = users
        self._limiter = limiter
        self._enabled = enabled

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(_OPEN_PREFIXES):
            return handler
        try:
            caller = await self._admit(method, handler_call_details.invocation_metadata)
        except errors.EngineError as error:
            return _refusing(handler, error)
        _caller.set(caller)
        return handler

    async def _admit(self, method: str, metadata: Any) -> Caller:
        caller = await admit(self._users, self._limiter, self._enabled, _bearer(metadata))
        if method in ADMIN_METHODS and not caller.admin:
            raise errors.PermissionDenied(f"{method.rsplit('/', 1)[-1]} needs an admin")
        return caller


async def admit(users: UserStore, limiter: Limiter, enabled: bool, secret: str) -> Caller:
    """The caller of an API key (anonymous when auth is off), after its rate limit; gRPC and the
    HTTP API both admit calls here."""
    caller = ANONYMOUS
    if enabled:
        if not secret:
            raise errors.Unauthenticated("missing 'authorization: Bearer <api key>'")
        user = await users.authenticate(secret)
        if user is None:
            raise errors.Unauthenticated("invalid or revoked API key")
        caller = Caller(user.user_id, user.admin)
    # Without auth everyone is the anonymous user, so the limit is then shared by all callers.
    wait_s = await limiter.take(caller.user_id)
    if wait_s > 0:
        raise errors.QueueFull(wait_s, f"rate limit of {limiter.per_minute} calls a minute")
    return caller


def set_caller(caller: Caller) -> None:
    """Makes `caller` the current caller of this task (the HTTP API's counterpart of the interceptor)."""
    _caller.set(caller)


def _refusing(
    handler: grpc.RpcMethodHandler[Any, Any], error: errors.EngineError
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape as `handler` that only ends the call with the error's status."""
    status = rpc_status.to_status(status_for(error))

    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        end_call(context, status)
        return None

    async def refuse_stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        end_call(context, status)
        return
        yield  # never reached: an async generator, as wrappers of streaming handlers expect

    deserializer, serializer = handler.request_deserializer, handler.response_serializer
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(refuse_stream, deserializer, serializer)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(refuse, deserializer, serializer)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(refuse_stream, deserializer, serializer)
    return grpc.unary_unary_rpc_method_handler(refuse, deserializer, serializer)
