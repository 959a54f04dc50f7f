"""Slow readers: a stream whose client stops reading must not hold its generation slot forever.

gRPC hands a streamed message to the transport only while the client's flow-control window has
room; a client that stops reading stops its own generation there, still holding its slot (and,
past the watchdog's stall time, looking like a wedged backend). The streaming servicers therefore
write with `send`: each message must leave within `timeout_s`, or the call ends CANCELLED, which
closes the engine stream and frees the slot. What a stream buffers is thus bounded by the window
plus one message. (`send` uses context.write: a timed-out write can be withdrawn and a status sent
after it, which a message yielded to gRPC cannot.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc

from autoglm_server.observability.access import call_note

log = logging.getLogger(__name__)


async def send(context: grpc.aio.ServicerContext[Any, Any], message: Any, timeout_s: float) -> bool:
    """Writes one message of a stream; False when it could not leave within `timeout_s`.

    The caller must then free what the call holds (close its engine stream) and `give_up`.
    """
    try:
        if timeout_s <= 0:
            await context.write(message)
        else:
            # wait_for, not asyncio.timeout: gRPC's write does not let the latter's cancel through.
            await asyncio.wait_for(context.write(message), timeout_s)
    except TimeoutError:
        return False
    except Exception as error:
        if not ended_call_error(error):
            raise
        # The call ended under the write (the client cancelled or went away): as a cancel.
        raise asyncio.CancelledError from None
    return True


def ended_call_error(error: BaseException) -> bool:
    """gRPC's error for an operation on a call that has ended already (not exported by grpc)."""
    return type(error).__name__ == "ExecuteBatchError"


async def give_up(context: grpc.aio.ServicerContext[Any, Any], timeout_s: float) -> None:
    """Ends a stream whose client stopped reading: CANCELLED, once it reads what is queued.

    The status queues behind the messages already sent, so it too waits for the client; if the
    client does not read it within `timeout_s` either, the call just ends here.
    """
    call_note().slow_reader = True
    log.info("stream cancelled: its client read nothing for %.1fs", timeout_s)
    message = f"cancelled: the client read nothing for {timeout_s:g}s (stream_write_timeout_s)"
    try:
        await asyncio.wait_for(context.abort(grpc.StatusCode.CANCELLED, message), timeout_s)
    except TimeoutError:
        raise asyncio.CancelledError from None


class EndedCallFilter(logging.Filter):
    """gRPC logs ERROR with a traceback when a servicer's send fails because the call has ended
    already: its client cancelled, its deadline passed, or a slow reader's write timed out. Those
    are the client's doing: one INFO line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and ended_call_error(error):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = (
                "a call ended while its reply was being sent: %s",
                (record.getMessage(),),
            )
            record.exc_info, record.exc_text = None, None
        return True


def quiet_ended_calls() -> None:
    """Installs EndedCallFilter on gRPC's logger (once)."""
    grpc_log = logging.getLogger("grpc._cython.cygrpc")
    if not any(isinstance(f, EndedCallFilter) for f in grpc_log.filters):
        grpc_log.addFilter(EndedCallFilter())
