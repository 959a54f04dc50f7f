"""The `autoglm` command as a user runs it: a server process and a client process."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks.server_process import ServerProcess

AUTOGLM = str(Path(sys.executable).with_name("autoglm"))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AUTOGLM, *args], capture_output=True, text=True, timeout=60)


def test_serve_generate_stream_and_sigterm() -> None:
    with ServerProcess(["--backend", "mock", "--mock-token-latency-ms", "1"]) as server:
        unary = run_cli("generate", "hello", "--target", server.target, "--max-new-tokens", "12")
        assert unary.returncode == 0, unary.stderr
        assert unary.stdout.strip()
        again = run_cli("generate", "hello", "--target", server.target, "--max-new-tokens", "12")
        assert again.stdout == unary.stdout  # the mock is deterministic

        streamed = run_cli(
            "generate", "hello", "--stream", "--target", server.target, "--max-new-tokens", "12"
        )
        assert streamed.returncode == 0 and streamed.stdout.strip() == unary.stdout.strip()

        models = run_cli("models", "--target", server.target, "--output", "json")
        assert '"name": "mock"' in models.stdout

        bad = run_cli("generate", "hello", "--target", server.target, "--temperature", "-1")
        assert bad.returncode == 3 and "INVALID_ARGUMENT" in bad.stderr  # the gRPC status code

        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0


def test_serve_help_documents_every_setting() -> None:
    from autoglm_server.server_settings import ServerSettings

    shown = run_cli("serve", "--help").stdout
    for name in ServerSettings.model_fields:
        assert "--" + name.replace("_", "-") in shown


@pytest.mark.parametrize("flags", [["--port", "99999"], ["--backend", "nope"], ["--max-running", "0"]])
def test_invalid_settings_exit_with_a_clear_message(flags: list[str]) -> None:
    result = run_cli("serve", *flags)
    assert result.returncode == 2 and "invalid settings" in result.stderr


def test_missing_model_path_fails_fast_with_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", "0", "--model", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "not found" in result.stderr.lower()


class _UnreadServer(ServerProcess):
    """A server whose output nobody reads after start-up: its pipe fills and stays full."""

    def _drain_output(self) -> None:
        return


def test_a_log_reader_that_stops_reading_does_not_stall_the_server() -> None:
    # Each call writes an access line; a few hundred fill the pipe. Writing them on the event loop
    # would block it on the first line that does not fit, and every call after it with it.
    with _UnreadServer(["--backend", "mock", "--metrics-port", "0"]) as server:
        assert server.process is not None and server.process.stdout is not None
        calls = subprocess.run(
            [sys.executable, "-c", _MANY_CALLS, server.target], capture_output=True, text=True, timeout=120
        )
        assert calls.returncode == 0, calls.stderr
        assert calls.stdout.split() == ["1500", "ok"]
        # Reading again, the lines queued meanwhile come through (and the server can exit).
        reader = threading.Thread(target=ServerProcess._drain_output, args=(server,), daemon=True)
        reader.start()
        for _ in range(100):
            if sum("GenerationService/Generate" in line for line in server.output) >= 400:
                break
            time.sleep(0.1)
        assert sum("GenerationService/Generate" in line for line in server.output) >= 400


_MANY_CALLS = """
import asyncio, sys
import grpc
from autoglm.v1 import generation_pb2, generation_pb2_grpc
from autoglm_client import build_input

async def main() -> None:
    async with grpc.aio.insecure_channel(sys.argv[1]) as channel:
        stub = generation_pb2_grpc.GenerationServiceStub(channel)
        request = generation_pb2.GenerateRequest(input=build_input("hi", max_new_tokens=2))
        done = 0
        for _ in range(150):
            replies = await asyncio.gather(*(stub.Generate(request, timeout=10) for _ in range(10)))
            done += len(replies)
        print(done, "ok")

asyncio.run(main())
"""
