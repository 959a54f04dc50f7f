"""The log writer thread's queue: a logger never blocks, and what it drops is counted and said."""

from __future__ import annotations

import io
import logging
import queue
import threading

import pytest

from autoglm_server.observability import logs
from autoglm_server.observability.logs import DroppingQueueHandler, LineWriter


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


class Output(io.StringIO):
    """A stream that counts its writes (a batch is one write)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


class StalledOutput(io.StringIO):
    """A pipe nobody reads: every write blocks until the test ends."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait()
        return 0


def test_the_writer_writes_lines_that_arrive_together_in_one_write_and_all_before_it_stops() -> None:
    lines: queue.Queue[logging.LogRecord] = queue.Queue(100)
    output = Output()
    writer = LineWriter(lines, output)
    writer.start()
    for i in range(50):
        lines.put_nowait(record(f"line {i}"))
    writer.stop()
    assert output.getvalue().splitlines() == [f"line {i}" for i in range(50)]
    assert output.writes < 50  # batched: the lines came faster than BATCH_S
    assert not writer.thread.is_alive()


def test_stopping_gives_up_on_an_output_nobody_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "WRITER_EXIT_S", 0.2)
    lines: queue.Queue[logging.LogRecord] = queue.Queue(100)
    output = StalledOutput()
    writer = LineWriter(lines, output)
    writer.start()
    lines.put_nowait(record("stuck"))
    writer.stop()  # returns although the line was never written
    assert writer.thread.is_alive()  # still stuck in its write: stop gave up, so the process can exit
    output.release.set()
