"""Typed errors: one class per gRPC status code, carrying the google.rpc rich details the server sent.

The server reports bad fields as INVALID_ARGUMENT with `BadRequest` field violations, an unknown
model as NOT_FOUND with `ResourceInfo`, a full queue as RESOURCE_EXHAUSTED with `RetryInfo`.
Every error is also a `grpc.RpcError` (with `code()`, `details()`, `trailing_metadata()`), so code
written against plain grpc keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import grpc
from google.protobuf import any_pb2, message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

_DETAIL_TYPES: tuple[type[message.Message], ...] = (
    error_details_pb2.BadRequest,
    error_details_pb2.RetryInfo,
    error_details_pb2.ResourceInfo,
    error_details_pb2.ErrorInfo,
    error_details_pb2.PreconditionFailure,
    error_details_pb2.QuotaFailure,
    error_details_pb2.RequestInfo,
    error_details_pb2.DebugInfo,
    error_details_pb2.Help,
    error_details_pb2.LocalizedMessage,
)
D = TypeVar("D", bound=message.Message)


# grpc.aio.AioRpcError is grpc's one public RpcError that can be built from values; subclassing it
# gives these errors grpc's accessors, and `except grpc.RpcError` / `except grpc.aio.AioRpcError` catch them.
class AutoGLMError(grpc.aio.AioRpcError):
    """A failed call: `code`, `message`, and the rich details (`field_violations`, `retry_delay_s`...)."""

    status_code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        code: grpc.StatusCode,
        message_text: str,
        rich_details: Sequence[message.Message] = (),
        trailing_metadata: Any = None,
        initial_metadata: Any = None,
        debug_error_string: str | None = None,
    ) -> None:
        super().__init__(code, initial_metadata, trailing_metadata, message_text, debug_error_string)
        self.message = message_text
        self.rich_details = list(rich_details)

    def detail(self, kind: type[D]) -> D | None:
        """The first rich detail of a type (e.g. `error_details_pb2.ErrorInfo`), or None."""
        return next((d for d in self.rich_details if isinstance(d, kind)), None)

    @property
    def field_violations(self) -> list[tuple[str, str]]:
        """(field path, description) of each bad field, e.g. ("input.sampling.temperature", "...")."""
        bad = self.detail(error_details_pb2.BadRequest)
        return [(v.field, v.description) for v in bad.field_violations] if bad else []

    @property
    def retry_delay_s(self) -> float | None:
        """How long the server asks to wait before retrying (RetryInfo), in seconds."""
        info = self.detail(error_details_pb2.RetryInfo)
        return info.retry_delay.ToMilliseconds() / 1000 if info else None

    @property
    def resource(self) -> tuple[str, str] | None:
        """(resource type, resource name) the error is about (ResourceInfo), e.g. ("model", "x")."""
        info = self.detail(error_details_pb2.ResourceInfo)
        return (info.resource_type, info.resource_name) if info else None

    @property
    def request_id(self) -> str:
        """The x-request-id the server echoed, to find the call in its logs."""
        for key, value in (*(self.initial_metadata() or ()), *(self.trailing_metadata() or ())):
            if key == "x-request-id":
                return str(value)
        return ""

    def __str__(self) -> str:
        """One line: CODE: message, then each field violation as path: description."""
        text = f"{self.code().name}: {self.message}"
        violations = "; ".join(f"{path}: {why}" for path, why in self.field_violations)
        if violations and violations not in self.message:
            text += f" ({violations})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> Any:
        return (_rebuild, (self.code(), self.message, self.trailing_metadata()))


def _rebuild(code: grpc.StatusCode, message_text: str, trailing_metadata: Any) -> AutoGLMError:
    return _CLASSES.get(code, AutoGLMError)(code, message_text, trailing_metadata=trailing_metadata)


class Cancelled(AutoGLMError):
    status_code = grpc.StatusCode.CANCELLED


class Unknown(AutoGLMError):
    status_code = grpc.StatusCode.UNKNOWN


class InvalidArgument(AutoGLMError):
    status_code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(AutoGLMError):
    status_code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(AutoGLMError):
    status_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(AutoGLMError):
    status_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(AutoGLMError):
    status_code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(AutoGLMError):
    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(AutoGLMError):
    status_code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(AutoGLMError):
    status_code = grpc.StatusCode.ABORTED


class OutOfRange(AutoGLMError):
    status_code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(AutoGLMError):
    status_code = grpc.StatusCode.UNIMPLEMENTED


class Internal(AutoGLMError):
    status_code = grpc.StatusCode.INTERNAL


class Unavailable(AutoGLMError):
    status_code = grpc.StatusCode.UNAVAILABLE


class DataLoss(AutoGLMError):
    status_code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(AutoGLMError):
    status_code = grpc.StatusCode.UNAUTHENTICATED


_CLASSES: dict[grpc.StatusCode, type[AutoGLMError]] = {
    cls.status_code: cls for cls in AutoGLMError.__subclasses__() if cls is not Unknown
} | {grpc.StatusCode.UNKNOWN: Unknown}


def _unpack(details: Sequence[any_pb2.Any]) -> list[message.Message]:
    found: list[message.Message] = []
    for packed in details:
        kind = next((k for k in _DETAIL_TYPES if packed.TypeName() == k.DESCRIPTOR.full_name), None)
        if kind is None:
            found.append(packed)  # a detail type this client does not know: kept packed
            continue
        detail = kind()
        packed.Unpack(detail)
        found.append(detail)
    return found


def from_rpc_error(error: grpc.RpcError) -> AutoGLMError:
    """The typed error for a failed call (sync or asyncio), its rich details unpacked."""
    if isinstance(error, AutoGLMError):
        return error
    call: Any = error  # a failed call is both a grpc.RpcError and a grpc.Call
    code: grpc.StatusCode = call.code()
    try:
        status = rpc_status.from_call(call)
    except ValueError:  # details that contradict the status code: ignore them, keep the code
        status = None
    return _CLASSES.get(code, AutoGLMError)(
        code,
        call.details() or "",
        _unpack(status.details) if status else (),
        trailing_metadata=call.trailing_metadata(),
        initial_metadata=call.initial_metadata(),
        # Not debug_error_string(): on a locally cancelled sync stream it waits forever.
    )
