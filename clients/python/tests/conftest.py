"""Live servers for the client's tests: `autoglm serve --backend mock` in processes of their own.

These tests need only the client: `make test-client-alone` runs them in a virtual environment that
holds nothing else, with AUTOGLM_TEST_SERVER naming the server command of the main one. By default
the server is the `autoglm` beside this Python.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVING = re.compile(r"serving on (\S+):(\d+)")
ADMIN_KEY = "client-tests-admin-key-0123456789"


def server_command() -> list[str]:
    return shlex.split(os.environ.get("AUTOGLM_TEST_SERVER", "")) or [
        str(Path(sys.executable).with_name("autoglm"))
    ]


@dataclass
class LiveServer:
    """A server process on a free loopback port; `output` collects what it printed."""

    process: subprocess.Popen[str]
    target: str = ""
    output: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(data_dir: Path, *flags: str) -> LiveServer:
    command = [*server_command(), "serve", "--backend", "mock", "--port", "0", "--metrics-port", "0"]
    command += ["--data-dir", str(data_dir), "--embedder", "lexical", *flags]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = LiveServer(process)
    assert process.stdout is not None
    for line in process.stdout:
        server.output.append(line)
        match = SERVING.search(line)
        if match:
            server.target = f"{match.group(1)}:{match.group(2)}"
            break
    if not server.target:
        server.stop()
        raise RuntimeError("the server did not start:\n" + "".join(server.output))
    # Keep reading, so that the server never blocks on a full pipe.
    threading.Thread(target=lambda: server.output.extend(process.stdout or ()), daemon=True).start()
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One mock server for the session (tests use names of their own: they share its state)."""
    running = start_server(
        tmp_path_factory.mktemp("server"), "--mock-token-latency-ms", "2", "--tool-allowlist", "127.0.0.1"
    )
    yield running
    running.stop()


@pytest.fixture
def server_with(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts a server with extra flags for one test (auth on, a tiny queue...)."""
    started: list[LiveServer] = []

    def start(*flags: str) -> LiveServer:
        started.append(start_server(tmp_path / f"server-{len(started)}", *flags))
        return started[-1]

    yield start
    for running in started:
        running.stop()
