"""The `autoglm` command as a user runs it: a server process and a client process."""

from __future__ import annotations

import signal
import subprocess
import sys
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
