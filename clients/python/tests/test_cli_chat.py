"""`autoglm chat`: piped (non-interactive), and in a real terminal (tmux) with Ctrl-C mid-answer."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import LiveServer

from autoglm_client.cli.chat import read_message

AUTOGLM = str(Path(sys.executable).with_name("autoglm"))


def chat(target: str, *flags: str, stdin: str) -> subprocess.CompletedProcess[str]:
    command = [AUTOGLM, "chat", "--target", target, *flags]
    return subprocess.run(command, capture_output=True, text=True, input=stdin, timeout=60)


def test_piped_question_is_answered_and_kept_in_the_session(server: LiveServer) -> None:
    session = f"pipe-{uuid.uuid4().hex[:6]}"
    first = chat(server.target, "--session", session, "--max-new-tokens", "6", stdin="hello\n")
    assert first.returncode == 0 and first.stdout.strip(), first.stderr
    again = chat(server.target, "--session", session, "--max-new-tokens", "6", stdin="and again\n")
    assert again.returncode == 0
    shown = subprocess.run(
        [AUTOGLM, "sessions", "show", session, "--target", server.target], capture_output=True, text=True
    )
    assert shown.stdout.count("[user]") == 2 and shown.stdout.count("[assistant]") == 2


def test_reasoning_is_shown_apart_or_hidden(server: LiveServer) -> None:
    shown = chat(server.target, "--thinking", "--max-new-tokens", "120", stdin="why?")
    assert shown.stdout.startswith("[reasoning]\n"), shown.stdout
    hidden = chat(server.target, "--thinking", "--hide-reasoning", "--max-new-tokens", "120", stdin="why?")
    assert "[reasoning]" not in hidden.stdout and hidden.stdout.strip()
    assert hidden.stdout.strip() in shown.stdout  # the same answer, without the reasoning


class Terminal:
    """A tmux session of its own running one command; `screen()` is what a person would see."""

    def __init__(self, command: str) -> None:
        self.socket = f"autoglm-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-x", "160", "-y", "40", command)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def wait_for(self, found: Callable[[str], bool], timeout_s: float = 30) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            screen = self.screen()
            if found(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"not on the screen in time:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal() -> Iterator[Callable[[str], Terminal]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    opened: list[Terminal] = []

    def open_terminal(command: str) -> Terminal:
        opened.append(Terminal(command))
        return opened[-1]

    yield open_terminal
    for each in opened:
        each.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cancelled_streams(metrics_port: int) -> int:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    lines = [line for line in text.splitlines() if line.startswith("autoglm_rpc_requests_total{")]
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in lines
        if 'code="CANCELLED"' in line and "GenerateStream" in line
    )


def test_ctrl_c_cancels_the_answer_and_keeps_the_chat(
    server_with: Callable[..., LiveServer], terminal: Callable[[str], Terminal]
) -> None:
    metrics_port = free_port()
    slow = server_with("--mock-token-latency-ms", "20", "--metrics-port", str(metrics_port))
    env = f"AUTOGLM_TARGET={slow.target}"
    term = terminal(f"env {env} {AUTOGLM} chat --max-new-tokens 3000 --session tmux-chat; sleep 30")
    term.wait_for(lambda s: s.rstrip().endswith(">>>"))
    term.keys("tell me a long story", "Enter")
    # Some of the answer has streamed in: the line under the question is no longer empty.
    term.wait_for(lambda s: len(s.split("tell me a long story", 1)[-1].strip()) > 20)
    term.keys("C-c")
    screen = term.wait_for(lambda s: "[cancelled]" in s and s.rstrip().endswith(">>>"))
    assert "Traceback" not in screen
    deadline = time.monotonic() + 10
    while cancelled_streams(metrics_port) < 1:  # the server saw the call cancelled
        assert time.monotonic() < deadline, "the server did not count the cancelled stream"
        time.sleep(0.1)

    term.keys("/thinking on", "Enter")
    term.wait_for(lambda s: "thinking on" in s)
    term.keys("/reset", "Enter")
    term.wait_for(lambda s: "conversation forgotten" in s)
    term.keys("/bye", "Enter")
    term.wait_for(lambda s: "/bye" in s and not s.rstrip().endswith(">>>"))


def test_tool_calls_are_shown_as_they_start_and_finish(server_with: Callable[..., LiveServer]) -> None:
    routed = server_with("--tool-modes", '{"*": "router"}', "--tool-router", "lexical")
    said = chat(
        routed.target, "--tools", "convert_units", "--max-new-tokens", "8", stdin="Convert 5 km to miles"
    )
    assert said.returncode == 0, said.stderr
    started, finished = said.stdout.splitlines()[:2]
    assert started.startswith("[tool convert_units({") and started.endswith("...]")
    assert finished.startswith("[tool convert_units -> {") and '"result": 3.10' in finished


def test_multi_line_input_between_triple_quotes(monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter(['"""First line,', "second line.", 'Done."""', "one line"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(typed))
    assert read_message() == "First line,\nsecond line.\nDone."
    assert read_message() == "one line"
