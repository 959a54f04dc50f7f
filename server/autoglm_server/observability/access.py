"""The access log: one line per RPC of ours (method, status, duration, tokens, user, ids).

With `--log-format json` each line is an object that also carries the trace and span ids of the
RPC's span, so a log search jumps to the trace. Servicers add what only they know (tokens, the
caller's request id) to the call's `CallNote`; the metrics interceptor, which wraps every call,
opens the note and writes the line when the call ends.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

import grpc

from autoglm_server.auth import current_caller

log = logging.getLogger("autoglm.access")

# Outcomes that are the server's fault: logged as warnings; everything else (the caller's doing:
# bad input, cancel, deadline, not found ...) at INFO.
_SERVER_FAULTS = frozenset(
    [
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.UNAVAILABLE,
    ]
)


@dataclass
class CallNote:
    """What a servicer learned about its call, for the access line."""

    request_id: str = ""
    call_id: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # A stream cancelled because its client stopped reading (slow_readers.py).
    slow_reader: bool = False


_note: ContextVar[CallNote | None] = ContextVar("autoglm_call_note", default=None)


def open_note() -> CallNote:
    note = CallNote()
    _note.set(note)
    return note


def call_note() -> CallNote:
    """The current call's note (a detached one outside a call, so callers need not check)."""
    return _note.get() or CallNote()


def log_call(method: str, code: grpc.StatusCode, seconds: float, note: CallNote) -> None:
    level = logging.WARNING if code in _SERVER_FAULTS else logging.INFO
    if not log.isEnabledFor(level):
        return
    user = current_caller().user_id
    log.log(
        level,
        "%s %s %.1fms",
        method,
        code.name,
        seconds * 1000,
        extra={
            "event": "rpc",
            "rpc": method,
            "status": code.name,
            "duration_ms": round(seconds * 1000, 3),
            "prompt_tokens": note.prompt_tokens,
            "completion_tokens": note.completion_tokens,
            "user": user,
            "request_id": note.request_id,
            "call_id": note.call_id,
            "slow_reader": note.slow_reader,
        },
    )
