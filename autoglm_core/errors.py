"""Engine errors. The server maps each class to one gRPC status code."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field of a request: its dotted path and what is wrong with it."""

    field: str
    description: str


class InvalidArgument(EngineError):
    """The request itself is wrong; retrying it unchanged cannot succeed."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))

    @classmethod
    def one(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class NotFound(EngineError):
    """A named thing (model, version, tool, user, session) does not exist."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} {name!r} not found")


class AlreadyExists(EngineError):
    """A thing with that name exists already."""


class FailedPrecondition(EngineError):
    """The system is not in a state where the request can run (e.g. a model failed to load)."""


class NotReady(EngineError):
    """The engine is starting, draining or restarting; retry later."""


class QueueFull(EngineError):
    """Admission refused the request because the queue is full."""

    def __init__(self, retry_after_s: float, message: str = "the request queue is full") -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


class ResourceExhausted(EngineError):
    """The request needs more than the server allows for one request (e.g. a grammar too large or
    too slow to compile); retrying it unchanged will not help."""


class BackendFailure(EngineError):
    """The model runtime failed mid-generation; not the caller's fault, a retry may succeed."""


class DeadlineExceeded(EngineError):
    """The request's deadline passed before it could start."""


class PermissionDenied(EngineError):
    """The caller may not do this."""


class Unauthenticated(EngineError):
    """The caller did not prove who it is."""


class DataLoss(EngineError):
    """Stored data is damaged (a corrupt database page): not the caller's fault, not retryable."""
