"""ToolService through the client: HTTP tools against a local HTTP server, built-in Python tools."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import LiveServer

from autoglm.v1 import tool_pb2
from autoglm_client import AsyncAutoGLMClient, AutoGLMClient, errors, http_tool, mcp_http_server

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


class _Echo(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_register_get_list_invoke_delete(server: LiveServer, echo_url: str) -> None:
    name = f"weather_{uuid.uuid4().hex[:6]}"
    tool = http_tool(name, "Weather for a city.", CITY, echo_url + "/weather/{city}", timeout_ms=2000)
    with AutoGLMClient(server.target, timeout=10) as client:
        assert client.register_tool(tool) == tool
        assert client.get_tool(name) == tool
        assert name in [t.name for t in client.list_tools()]

        invoked = client.invoke_tool(name, {"city": "Lima"})
        assert invoked.error == "" and json.loads(invoked.result_json) == {"path": "/weather/Lima"}

        with pytest.raises(errors.AlreadyExists):
            client.register_tool(tool)
        client.delete_tool(name)
        with pytest.raises(errors.NotFound) as raised:
            client.get_tool(name)
        assert raised.value.resource == ("tool", name)


def test_register_from_the_json_form_of_a_file(server: LiveServer, echo_url: str) -> None:
    name = f"capital_{uuid.uuid4().hex[:6]}"
    spec = {
        "name": name,
        "description": "The capital of a country.",
        "parameters": {"type": "object", "properties": {"country": {"type": "string"}}},
        "http": {"method": "GET", "url_template": echo_url + "/capital/{country}"},
    }
    with AutoGLMClient(server.target, timeout=10) as client:
        registered = client.register_tool(spec)
        assert (
            registered.kind == tool_pb2.TOOL_KIND_HTTP and registered.http.method == tool_pb2.HTTP_METHOD_GET
        )
        assert (
            json.loads(client.invoke_tool(name, '{"country": "Peru"}').result_json)["path"] == "/capital/Peru"
        )
        client.delete_tool(name)


def test_builtin_tools_run_and_cannot_be_deleted(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=10) as client:
        converted = client.invoke_tool("convert_units", {"value": 2, "from_unit": "km", "to_unit": "m"})
        assert json.loads(converted.result_json)["result"] == 2000
        with pytest.raises(errors.InvalidArgument) as raised:
            client.invoke_tool("convert_units", {"value": "two"})
        assert {path for path, _ in raised.value.field_violations} == {"arguments_json"}
        assert "'two' is not of type 'number'" in str(raised.value)
        with pytest.raises(errors.FailedPrecondition):
            client.delete_tool("convert_units")


def test_invalid_tool_reports_each_bad_field(server: LiveServer) -> None:
    bad = http_tool("bad name!", "", {"type": "object"}, "ftp://example.com/{x}")
    with AutoGLMClient(server.target, timeout=10) as client, pytest.raises(errors.InvalidArgument) as raised:
        client.register_tool(bad)
    fields = [path for path, _ in raised.value.field_violations]
    assert "tool.name" in fields and any(f.startswith("tool.http") for f in fields)


async def test_async_tools(server: LiveServer, echo_url: str) -> None:
    name = f"echo_{uuid.uuid4().hex[:6]}"
    async with AsyncAutoGLMClient(server.target, timeout=10) as client:
        await client.register_tool(http_tool(name, "Echo.", CITY, echo_url + "/e/{city}"))
        assert (await client.get_tool(name)).name == name
        assert name in [t.name for t in await client.list_tools()]
        assert json.loads((await client.invoke_tool(name, {"city": "x"})).result_json) == {"path": "/e/x"}
        await client.delete_tool(name)
        with pytest.raises(errors.NotFound):
            await client.get_tool(name)


def test_mcp_servers_list_get_and_refusals(server: LiveServer) -> None:
    """What the client can check without an MCP server (the client's environment has no SDK): an
    empty list, NotFound, and registrations the server refuses with field violations."""
    with AutoGLMClient(server.target, timeout=10) as client:
        assert client.list_mcp_servers() == []
        with pytest.raises(errors.NotFound):
            client.get_mcp_server("nothing")
        with pytest.raises(errors.NotFound):
            client.delete_mcp_server("nothing")
        with pytest.raises(errors.InvalidArgument) as raised:
            client.register_mcp_server(mcp_http_server("web", "http://169.254.169.254/mcp"))
        assert "server.http.url" in {path for path, _ in raised.value.field_violations}
        with pytest.raises(errors.InvalidArgument) as raised:
            client.register_mcp_server({"name": "local", "stdio": {"command": "sh", "args": ["-c", "true"]}})
        assert "server.stdio.command" in {path for path, _ in raised.value.field_violations}
