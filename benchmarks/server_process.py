"""Starts `autoglm serve` as a separate process for benchmarks, and reads its memory use."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

SERVING = re.compile(r"serving on ([\d.]+):(\d+)")
HTTP_API = re.compile(r"HTTP API on ([\d.]+):(\d+)")


class ServerProcess:
    """`with ServerProcess(["--backend", "mock"]) as server: server.target`"""

    def __init__(
        self, flags: list[str], startup_timeout_s: float = 600.0, command: list[str] | None = None
    ) -> None:
        """`command` replaces `autoglm serve --port 0` (any process that prints "serving on HOST:PORT")."""
        self.flags = flags
        self.base_command = command
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[str] | None = None
        self.target = ""
        # The server's last lines of output (after start-up).
        self.output: collections.deque[str] = collections.deque(maxlen=500)
        self.startup_output: list[str] = []  # what the process printed before it served
        # host:port of the OpenAI-compatible HTTP API, when the server serves one (--http-port).
        self.http_target = ""

    def __enter__(self) -> ServerProcess:
        autoglm = Path(sys.executable).with_name("autoglm")
        base = self.base_command or [str(autoglm), "serve", "--port", "0"]
        command = [*base, *self.flags]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()
        )
        deadline = time.monotonic() + self.startup_timeout_s
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.startup_output.append(line)
            match = SERVING.search(line)
            if match:
                self.target = f"{match.group(1)}:{match.group(2)}"
                # Keep reading its output: a full pipe would block the server on its next log line.
                threading.Thread(target=self._drain_output, daemon=True).start()
                http = HTTP_API.search(line)
                self.http_target = f"{http.group(1)}:{http.group(2)}" if http else ""
                return self
            if time.monotonic() > deadline:
                break
        self.__exit__(None, None, None)
        raise RuntimeError(f"server did not start: {' '.join(command)}")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def _drain_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def memory_mb(self) -> dict[str, float]:
        """Current and peak resident memory of the server process."""
        assert self.process is not None
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}

    def cpu_s(self) -> float:
        """CPU time the server process has used so far (user + system, all its threads), seconds."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")
