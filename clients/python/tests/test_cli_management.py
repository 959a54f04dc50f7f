"""`autoglm` management commands as a user runs them: a subprocess against a live mock server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_KEY, LiveServer

AUTOGLM = str(Path(sys.executable).with_name("autoglm"))


def run(
    *args: str, target: str | None, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [AUTOGLM, *args] + (["--target", target] if target else [])
    return subprocess.run(
        command, capture_output=True, text=True, input=stdin, timeout=60, env={**os.environ, **(env or {})}
    )


def ok_json(*args: str, target: str) -> Any:
    result = run(*args, "--output", "json", target=target)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("autoglm: ")
    assert text in result.stderr and "Traceback" not in result.stderr


def test_users_and_keys(server: LiveServer) -> None:
    name = f"ada-{uuid.uuid4().hex[:6]}"
    user = ok_json("users", "create", name, "--age", "36", target=server.target)
    user_id = user["user_id"]
    assert ok_json("users", "get", user_id, target=server.target)["name"] == name
    table = run("users", "list", target=server.target)
    assert table.stdout.startswith("USER ID") and name in table.stdout
    assert ok_json("users", "update", user_id, "--age", "37", target=server.target)["age"] == 37

    key = ok_json("keys", "create", user_id, "--label", "ci", target=server.target)
    assert key["secret"] and key["key"]["label"] == "ci"
    assert [k["key_id"] for k in ok_json("keys", "list", user_id, target=server.target)] == [
        key["key"]["key_id"]
    ]
    assert run("keys", "revoke", key["key"]["key_id"], target=server.target).returncode == 0

    assert run("users", "delete", user_id, target=server.target).returncode == 0
    assert_one_line_error(run("users", "get", user_id, target=server.target), 5, "NOT_FOUND")
    assert_one_line_error(run("users", "create", "", target=server.target), 3, "name")


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    class Echo(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_address[1]}"
    http.shutdown()


def test_tools_from_a_file(server: LiveServer, echo_url: str, tmp_path: Path) -> None:
    name = f"weather_{uuid.uuid4().hex[:6]}"
    spec = {
        "name": name,
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "http": {"method": "GET", "url_template": echo_url + "/weather/{city}"},
    }
    file = tmp_path / "tool.json"
    file.write_text(json.dumps(spec))
    assert ok_json("tools", "register", str(file), target=server.target)["name"] == name
    assert name in run("tools", "list", target=server.target).stdout
    assert ok_json("tools", "get", name, target=server.target)["http"]["method"] == "HTTP_METHOD_GET"
    invoked = ok_json("tools", "invoke", name, '{"city": "Lima"}', target=server.target)
    assert json.loads(invoked["result_json"]) == {"path": "/weather/Lima"}
    assert run("tools", "delete", name, target=server.target).returncode == 0
    assert_one_line_error(run("tools", "get", name, target=server.target), 5, "NOT_FOUND")


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("{not json", "not valid JSON or YAML"),
        ('["a list"]', "expected an object"),
        ('{"name": "x", "colour": "red"}', "colour"),
        (
            '{"name": "bad name!", "description": "d", "http": {"method": "GET", "url_template": "ftp://x/{y}"}}',
            "tool.name",
        ),
    ],
)
def test_malformed_tool_files_fail_with_one_line(
    server: LiveServer, tmp_path: Path, content: str, text: str
) -> None:
    file = tmp_path / "tool.json"
    file.write_text(content)
    assert_one_line_error(run("tools", "register", str(file), target=server.target), 3, text)


def test_mcp_commands(server: LiveServer) -> None:
    """What needs no MCP server (the client's environment has none): listing and the refusals."""
    assert ok_json("mcp", "list", target=server.target) == []
    stdio = run("mcp", "register", "local", "--command", "sh", "--arg=-c", target=server.target)
    assert_one_line_error(stdio, 3, "server.stdio.command")
    metadata = run("mcp", "register", "web", "--url", "http://169.254.169.254/mcp", target=server.target)
    assert_one_line_error(metadata, 3, "server.http.url: refused")
    assert_one_line_error(run("mcp", "get", "web", target=server.target), 5, "NOT_FOUND")
    bad_pair = run(
        "mcp", "register", "web", "--url", "https://example.com/", "--header", "X", target=server.target
    )
    assert_one_line_error(bad_pair, 3, "expected NAME=SECRET")


def test_knowledge_and_sessions(server: LiveServer) -> None:
    fact = f"The {uuid.uuid4().hex[:6]} river flows through Zorbania."
    added = run(
        "knowledge",
        "add",
        "-",
        "--meta",
        "source=atlas",
        "--output",
        "json",
        target=server.target,
        stdin=fact,
    )
    entry_id = json.loads(added.stdout)["entry_id"]
    found = ok_json("knowledge", "search", "river Zorbania", target=server.target)
    assert found[0]["entry"]["entry_id"] == entry_id
    assert run("knowledge", "delete", entry_id, target=server.target).returncode == 0

    session = f"cli-{uuid.uuid4().hex[:6]}"
    said = run("generate", "hello", "--session", session, "--max-new-tokens", "3", target=server.target)
    assert said.returncode == 0, said.stderr
    assert session in run("sessions", "list", target=server.target).stdout
    shown = run("sessions", "show", session, target=server.target).stdout
    assert shown.startswith("[user] hello\n[assistant] ")
    assert run("sessions", "delete", session, target=server.target).returncode == 0
    assert_one_line_error(run("sessions", "show", session, target=server.target), 5, "NOT_FOUND")


def test_models_load_split_promote_rollback_unload(server: LiveServer) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    for version in ("1.0.0", "1.1.0"):
        loaded = run(
            "models", "load", name, version, "--source", "mock", "--backend", "mock", target=server.target
        )
        assert loaded.returncode == 0, loaded.stderr
    split = run("models", "split", name, "1.0.0=95", "1.1.0=5", target=server.target)
    assert split.returncode == 0 and "95%" in split.stdout and "5%" in split.stdout
    promoted = ok_json("models", "promote", name, "1.1.0", target=server.target)
    assert {v["version"]: v.get("traffic_weight", 0) for v in promoted["versions"]} == {
        "1.0.0": 0,
        "1.1.0": 100,
    }
    assert run("models", "rollback", name, target=server.target).returncode == 0
    assert run("models", "unload", name, "1.1.0", target=server.target).returncode == 0
    assert name in run("models", target=server.target).stdout
    assert_one_line_error(run("models", "split", name, "1.0.0=50", target=server.target), 3, "weights")
    assert_one_line_error(
        run("models", "split", name, "1.0.0=half", target=server.target), 3, "whole percentage"
    )
    assert_one_line_error(run("models", "get", "no-such-model", target=server.target), 5, "NOT_FOUND")


def test_target_from_the_environment_or_before_the_command(server: LiveServer) -> None:
    result = run("health", target=None, env={"AUTOGLM_TARGET": server.target})
    assert (result.returncode, result.stdout) == (0, "SERVING\n")
    before = run("--target", server.target, "--output", "json", "health", target=None)
    assert before.returncode == 0 and '"status": "SERVING"' in before.stdout


def test_unreachable_server_is_unavailable(tmp_path: Path) -> None:
    assert_one_line_error(run("users", "list", target="127.0.0.1:1"), 14, "UNAVAILABLE")


def test_wrong_api_key_is_unauthenticated(server_with: Callable[..., LiveServer]) -> None:
    secured = server_with("--auth-enabled", "true", "--admin-key", ADMIN_KEY)
    assert_one_line_error(
        run("users", "list", "--api-key", "wrong", target=secured.target), 16, "UNAUTHENTICATED"
    )
    allowed = run("users", "list", target=secured.target, env={"AUTOGLM_API_KEY": ADMIN_KEY})
    assert allowed.returncode == 0, allowed.stderr
