"""Logging setup: text lines for people, or one JSON object per line for log pipelines.

JSON lines carry the trace_id and span_id of the span current when the line was logged, so a log
search can jump to the trace (and the trace UI back to the logs). Extra fields passed with
`log.info(..., extra={"event": ..., "model": ...})` become keys of the object.

Lines are formatted where they are logged and written by a thread of their own: a reader of the
server's output that falls behind (a full pipe) must not stall the event loop, and so every caller.
While the queue to that thread is full, lines are dropped and counted, and the count is logged.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from opentelemetry import trace

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, trace_id, span_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            doc["trace_id"] = format(context.trace_id, "032x")
            doc["span_id"] = format(context.span_id, "016x")
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


# Lines waiting for the writer thread; past this, new lines are dropped (and counted).
QUEUE_LINES = 10_000
# How long an exiting process waits for its last lines to be written.
WRITER_EXIT_S = 2.0
# How long the writer lets lines gather before writing them (see LineWriter).
BATCH_S = 0.02


class DroppingQueueHandler(logging.handlers.QueueHandler):
    """Hands formatted lines to the writer thread without ever blocking; drops them when it lags."""

    def __init__(self, lines: queue.Queue[Any]) -> None:
        super().__init__(lines)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            if self.dropped:  # say how many went missing, once the writer has room again
                note = logging.makeLogRecord(
                    {"name": __name__, "levelno": logging.WARNING, "levelname": "WARNING",
                     "msg": f"{self.dropped} log lines dropped: the log output was not read fast enough"}
                )  # fmt: skip
                self.queue.put_nowait(self.prepare(note))
                self.dropped = 0
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class LineWriter:
    """Writes the queued lines to `stream` from a thread of its own, a batch at a time.

    After a line arrives it waits BATCH_S for more, then writes all that came in one call: under
    load the access log alone is a line per call, and a wake-up, lock hand-over and system call
    per line cost the event loop more than formatting the line did.
    """

    def __init__(self, lines: queue.Queue[Any], stream: TextIO) -> None:
        self.lines = lines
        self.stream = stream
        self.thread = threading.Thread(target=self._run, name="autoglm-log-writer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Writes what is queued and ends the thread; gives up after WRITER_EXIT_S when the output
        is not being read, so the process can still exit."""
        if not self.thread.is_alive():
            return
        try:
            self.lines.put_nowait(_STOP)
        except queue.Full:
            return
        self.thread.join(WRITER_EXIT_S)

    def _run(self) -> None:
        while True:
            batch = [self.lines.get()]
            time.sleep(BATCH_S)
            while True:
                try:
                    batch.append(self.lines.get_nowait())
                except queue.Empty:
                    break
            text = "".join(f"{record.getMessage()}\n" for record in batch if record is not _STOP)
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # the output was closed: nothing more can be said
                pass
            if _STOP in batch:
                return


_STOP = object()
_writer: LineWriter | None = None


def configure_logging(level: str, log_format: str) -> None:
    """Sets up the root logger once, for `autoglm serve`."""
    global _writer
    if _writer is None:
        atexit.register(_stop_writer)  # the last lines are written before the process ends
    _stop_writer()
    _skip_unused_record_fields()
    lines: queue.Queue[Any] = queue.Queue(QUEUE_LINES)
    handler = DroppingQueueHandler(lines)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    _writer = LineWriter(lines, sys.stderr)
    _writer.start()


def _skip_unused_record_fields() -> None:
    """Neither format prints where a line was logged from, or the thread and process: the logging
    HOWTO's optimisations skip finding them for every record (the access log writes one per call)."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def _stop_writer() -> None:
    """Ends the writer thread once its lines are written (it may be called again)."""
    if _writer is not None:
        _writer.stop()
