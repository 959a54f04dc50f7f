"""Status -> typed error mapping, on statuses built here (the live tests cover what the server sends)."""

from __future__ import annotations

import pickle

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2, struct_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from autoglm_client import errors


def failed_call(code: grpc.StatusCode, message: str, *details: object) -> grpc.aio.AioRpcError:
    status = status_pb2.Status(code=code.value[0], message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)  # type: ignore[arg-type]
        status.details.append(packed)
    trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    initial = grpc.aio.Metadata(("x-request-id", "req-7"))
    return grpc.aio.AioRpcError(code, initial, trailing, details=message)


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c != grpc.StatusCode.OK])
def test_every_status_code_has_its_class(code: grpc.StatusCode) -> None:
    error = errors.from_rpc_error(failed_call(code, "boom"))
    assert type(error).status_code == code == error.code()
    assert isinstance(error, errors.AutoGLMError) and isinstance(error, grpc.RpcError)
    assert str(error) == f"{code.name}: boom" and error.request_id == "req-7"


def test_rich_details_are_unpacked() -> None:
    delay = duration_pb2.Duration(seconds=2, nanos=500_000_000)
    violation = error_details_pb2.BadRequest.FieldViolation(field="input.top_p", description="must be <= 1")
    info = error_details_pb2.ErrorInfo(reason="QUOTA", domain="autoglm")
    unknown = struct_pb2.Value(string_value="a detail type the client does not know")
    call = failed_call(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "queue full",
        error_details_pb2.RetryInfo(retry_delay=delay),
        error_details_pb2.BadRequest(field_violations=[violation]),
        error_details_pb2.ResourceInfo(resource_type="model", resource_name="m"),
        info,
        unknown,
    )
    error = errors.from_rpc_error(call)
    assert isinstance(error, errors.ResourceExhausted)
    assert error.retry_delay_s == 2.5
    assert error.field_violations == [("input.top_p", "must be <= 1")]
    assert error.resource == ("model", "m")
    assert error.detail(error_details_pb2.ErrorInfo) == info
    assert isinstance(error.rich_details[-1], any_pb2.Any)  # kept packed
    assert str(error) == "RESOURCE_EXHAUSTED: queue full (input.top_p: must be <= 1)"


def test_details_that_contradict_the_code_are_ignored() -> None:
    status = status_pb2.Status(code=code_pb2.NOT_FOUND, message="other")
    trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    call = grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, None, trailing, details="down")
    error = errors.from_rpc_error(call)
    assert isinstance(error, errors.Unavailable) and error.rich_details == []


def test_errors_pickle_and_are_caught_as_grpc_errors() -> None:
    error = errors.from_rpc_error(failed_call(grpc.StatusCode.NOT_FOUND, "gone"))
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, errors.NotFound) and str(copy) == "NOT_FOUND: gone"
    with pytest.raises(grpc.aio.AioRpcError):
        raise error
