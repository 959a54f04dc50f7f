"""Real MCP servers for tests (tests/mcp_server.py, made with the SDK): over streamable HTTP on a
loopback port in a child process, or as the command line of a stdio server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from autoglm.v1 import tool_pb2

SERVER_SCRIPT = str(Path(__file__).with_name("mcp_server.py"))
PYTHON = sys.executable
TOOLS = ["add", "big", "env", "fail", "forecast", "inject", "slow"]


@dataclass
class HttpMcpServer:
    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def http_mcp_server() -> Iterator[HttpMcpServer]:
    """The test MCP server over streamable HTTP on 127.0.0.1 (a free port), stopped afterwards."""
    process = subprocess.Popen(
        [PYTHON, SERVER_SCRIPT, "http"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PORT "), f"the MCP test server did not start: {line!r}"
        yield HttpMcpServer(process, int(line.split()[1]))
    finally:
        process.kill()
        process.wait(timeout=10)


def http_server_message(name: str, url: str, **fields: object) -> tool_pb2.McpServer:
    return tool_pb2.McpServer(name=name, http=tool_pb2.McpHttpTransport(url=url), **fields)  # type: ignore[arg-type]


def stdio_server_message(name: str, command: str = PYTHON, **env: str) -> tool_pb2.McpServer:
    stdio = tool_pb2.McpStdioTransport(command=command, args=[SERVER_SCRIPT, "stdio"], secret_env=env)
    return tool_pb2.McpServer(name=name, stdio=stdio)
