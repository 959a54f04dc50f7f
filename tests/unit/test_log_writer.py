"""The log writer thread's queue: a logger never blocks, and what it drops is counted and said."""

from __future__ import annotations

import logging
import queue

from autoglm_server.observability.logs import DroppingQueueHandler


def record(text: str) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "t", "levelno": logging.INFO, "levelname": "INFO", "msg": text})


def test_a_full_queue_drops_lines_and_says_how_many_once_there_is_room() -> None:
    lines: queue.Queue[logging.LogRecord] = queue.Queue(2)
    handler = DroppingQueueHandler(lines)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    for i in range(5):
        handler.handle(record(f"line {i}"))  # returns at once although nobody reads
    assert handler.dropped == 3
    queued = [lines.get_nowait().getMessage() for _ in range(2)]
    assert queued == ["INFO line 0", "INFO line 1"]
    handler.handle(record("line 5"))
    after = [lines.get_nowait().getMessage() for _ in range(2)]
    assert after[0].startswith("WARNING 3 log lines dropped") and after[1] == "INFO line 5"
    assert handler.dropped == 0
