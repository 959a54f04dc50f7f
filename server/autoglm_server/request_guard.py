"""The first look at every request body: a size cap per RPC, and bodies that do not parse refused.

gRPC hands a handler's deserializer the raw bytes; an exception there would reach the client as
UNKNOWN (with a traceback in the log). This interceptor wraps each deserializer so that an
over-size body becomes RESOURCE_EXHAUSTED and a body that is not the request message (bad wire
format, invalid UTF-8 in a string field, nesting past protobuf's recursion limit) becomes
INVALID_ARGUMENT, both before any servicer work. The refusal travels as a sentinel request that the
wrapped behaviour ends the call with, so the other interceptors (metrics, tracing) count it as it is.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from autoglm_server.errors import end_call

KIB = 1024
MIB = 1024 * KIB
# Largest request body per RPC, bytes: what each one's purpose needs. Generation takes whatever the
# transport allows (its prompt has its own character cap, checked before any work); a method not
# listed here takes DEFAULT_LIMIT.
DEFAULT_LIMIT = 64 * KIB
LIMITS: dict[str, int | None] = {
    "/autoglm.v1.GenerationService/Generate": None,
    "/autoglm.v1.GenerationService/GenerateStream": None,
    "/autoglm.v1.GenerationService/Tokenize": None,
    "/autoglm.v1.MemoryService/AddKnowledge": 2 * MIB,  # an entry is up to 1 MiB of text
    "/autoglm.v1.MemoryService/SearchKnowledge": 16 * KIB,
    "/autoglm.v1.ToolService/RegisterTool": MIB,  # schemas, descriptions, Python source
    "/autoglm.v1.ToolService/InvokeTool": MIB,
    "/autoglm.v1.ModelService/LoadModel": 16 * KIB,
}

if TYPE_CHECKING:  # grpc's classes are generic only in its stubs
    Handler = grpc.RpcMethodHandler[Any, Any]
Context = grpc.aio.ServicerContext[Any, Any]
Behavior = Callable[..., Any]


@dataclass(frozen=True)
class Refused:
    """Stands in for a request that was refused before parsing finished."""

    code: int
    message: str

    def status(self) -> grpc.Status:
        status: grpc.Status = rpc_status.to_status(status_pb2.Status(code=self.code, message=self.message))
        return status


def safe_deserializer(
    method: str, deserialize: Callable[[bytes], Any] | None, limit: int | None
) -> Callable[[bytes], Any]:
    """A deserializer that returns Refused instead of raising, and refuses bodies over `limit`."""
    name = method.rsplit("/", 1)[-1]

    def parse(data: bytes) -> Any:
        if limit is not None and len(data) > limit:
            return Refused(
                code_pb2.RESOURCE_EXHAUSTED,
                f"{name} takes requests of at most {limit} bytes, not {len(data)}",
            )
        if deserialize is None:
            return data
        try:
            return deserialize(data)
        except (DecodeError, RecursionError, UnicodeDecodeError, ValueError) as error:
            detail = str(error) or type(error).__name__
            return Refused(code_pb2.INVALID_ARGUMENT, f"the body is not a valid {name} request: {detail}")

    return parse


def _guard_unary(behavior: Behavior) -> Behavior:
    async def guarded(request: Any, context: Context) -> Any:
        if isinstance(request, Refused):
            end_call(context, request.status())
            return None
        return await behavior(request, context)

    return guarded


def _guard_unary_stream(behavior: Behavior) -> Behavior:
    # grpc accepts an async generator or a coroutine that writes with context.write (health's Watch).
    if not inspect.isasyncgenfunction(behavior):
        return _guard_unary(behavior)

    async def guarded(request: Any, context: Context) -> AsyncIterator[Any]:
        if isinstance(request, Refused):
            end_call(context, request.status())
            return
        async for response in behavior(request, context):
            yield response

    return guarded


class RequestGuard(grpc.aio.ServerInterceptor):
    """Size caps and parse failures of request bodies -> RESOURCE_EXHAUSTED / INVALID_ARGUMENT."""

    def __init__(
        self, limits: dict[str, int | None] | None = None, default_limit: int | None = DEFAULT_LIMIT
    ):
        self._limits = LIMITS if limits is None else limits
        self._default = default_limit
        # method -> (its handler, that handler guarded): wrapping once, not on every call.
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    def limit_for(self, method: str) -> int | None:
        if method in self._limits:
            return self._limits[method]
        return self._default if method.startswith("/autoglm.") else None

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler  # no client-streaming RPCs of ours; reflection parses its own stream
        method: str = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            cached = self._wrapped[method] = (handler, self._wrap(method, handler))
        return cached[1]

    def _wrap(self, method: str, handler: Handler) -> Handler:
        parse = safe_deserializer(method, handler.request_deserializer, self.limit_for(method))
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _guard_unary(handler.unary_unary), parse, handler.response_serializer
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _guard_unary_stream(handler.unary_stream), parse, handler.response_serializer
            )
        return handler
