"""Engine errors -> gRPC status codes with google.rpc rich details (grpcio-status).

Every servicer method is wrapped by `unary_errors` or `stream_errors`, so a client never sees
UNKNOWN, and INTERNAL only for a bug (logged with the request id).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from autoglm_core import errors

log = logging.getLogger(__name__)

_CODES: list[tuple[type[errors.EngineError], int]] = [
    (errors.InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (errors.NotFound, code_pb2.NOT_FOUND),
    (errors.AlreadyExists, code_pb2.ALREADY_EXISTS),
    (errors.QueueFull, code_pb2.RESOURCE_EXHAUSTED),
    (errors.ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
    (errors.NotReady, code_pb2.UNAVAILABLE),
    (errors.BackendFailure, code_pb2.UNAVAILABLE),
    (errors.DeadlineExceeded, code_pb2.DEADLINE_EXCEEDED),
    (errors.PermissionDenied, code_pb2.PERMISSION_DENIED),
    (errors.Unauthenticated, code_pb2.UNAUTHENTICATED),
    (errors.FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (errors.DataLoss, code_pb2.DATA_LOSS),
]


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def status_for(error: errors.EngineError) -> status_pb2.Status:
    """The google.rpc.Status (code, message, details) that describes an engine error."""
    code = next((c for cls, c in _CODES if isinstance(error, cls)), code_pb2.INTERNAL)
    status = status_pb2.Status(code=code, message=str(error))
    if isinstance(error, errors.InvalidArgument):
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
        status.details.append(_pack(error_details_pb2.BadRequest(field_violations=violations)))
    elif isinstance(error, errors.QueueFull):
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(error.retry_after_s * 1000))
        status.details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    elif isinstance(error, errors.NotFound):
        info = error_details_pb2.ResourceInfo(resource_type=error.kind, resource_name=error.name)
        status.details.append(_pack(info))
    return status


def client_gone(context: grpc.aio.ServicerContext[Any, Any]) -> bool:
    """True when the caller cancelled or its deadline passed: no status can reach it any more."""
    remaining = context.time_remaining()
    return context.cancelled() or (remaining is not None and remaining <= 0)


def end_call(context: grpc.aio.ServicerContext[Any, Any], status: grpc.Status) -> None:
    """Gives the call `status` (rich details included) for when the handler returns.

    Used instead of `context.abort_with_status`, whose AbortError unwinds through every wrapper and
    leaves reference cycles (its traceback holds the call's frames) for the garbage collector: a
    flood of refused calls then costs every caller full collections. A unary handler returns None
    after this (gRPC discards the message of a call that is not OK); a streaming one stops."""
    context.set_code(status.code)
    context.set_details(status.details)
    context.set_trailing_metadata(status.trailing_metadata)


def _end_with(context: grpc.aio.ServicerContext[Any, Any], error: Exception) -> None:
    if client_gone(context):
        # The caller's doing (cancel, deadline), not a fault: sending a status now would fail in
        # gRPC's core and log an error with a traceback. End the call as cancelled, quietly.
        log.info("call ended by its caller (%s): %s", type(error).__name__, error)
        raise asyncio.CancelledError
    if isinstance(error, errors.EngineError):
        end_call(context, rpc_status.to_status(status_for(error)))
        return
    log.exception("unexpected error in an RPC")
    status = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error; see the server log")
    end_call(context, rpc_status.to_status(status))


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Re-raises InvalidArgument with request-relative field paths (e.g. 'input.')."""
    try:
        yield
    except errors.InvalidArgument as error:
        raise errors.InvalidArgument(
            [errors.FieldViolation(prefix + v.field, v.description) for v in error.violations]
        ) from None


Req = TypeVar("Req")
Resp = TypeVar("Resp")
Self = TypeVar("Self")
Ctx = grpc.aio.ServicerContext[Any, Any]


def unary_errors(
    method: Callable[[Self, Req, Ctx], Awaitable[Resp]],
) -> Callable[[Self, Req, Ctx], Awaitable[Resp]]:
    @functools.wraps(method)
    async def wrapper(self: Self, request: Req, context: Ctx) -> Resp:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:  # mapped to a status, never leaked as UNKNOWN
            _end_with(context, error)
            return cast(Resp, None)

    return wrapper


def stream_errors(
    method: Callable[[Self, Req, Ctx], AsyncIterator[Resp]],
) -> Callable[[Self, Req, Ctx], AsyncIterator[Resp]]:
    @functools.wraps(method)
    async def wrapper(self: Self, request: Req, context: Ctx) -> AsyncIterator[Resp]:
        try:
            async for item in method(self, request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            _end_with(context, error)

    return wrapper
