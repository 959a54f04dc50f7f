"""ToolService through a real server: register, list, get, delete, invoke, and their errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from autoglm.v1 import tool_pb2, tool_pb2_grpc
from tests.conftest import RunningServer, start_mock_server
from tests.integration.auth_support import violations
from tests.tool_support import CITY, http_tool, local_http_server


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with local_http_server() as url:
        yield url


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    running = await start_mock_server(tool_allowlist=["127.0.0.1"], tool_secrets={"weather_key": "k-123"})
    yield running
    await running.client.close()
    await running.server.stop(grace_s=0)


def stub(running: RunningServer) -> tool_pb2_grpc.ToolServiceStub:
    return tool_pb2_grpc.ToolServiceStub(running.client.channel)


async def test_builtin_python_tools_are_listed(server: RunningServer) -> None:
    listed = await stub(server).ListTools(tool_pb2.ListToolsRequest())
    kinds = {t.name: t.kind for t in listed.tools}
    assert kinds["convert_units"] == kinds["get_time"] == tool_pb2.TOOL_KIND_PYTHON
    got = await stub(server).GetTool(tool_pb2.GetToolRequest(name="convert_units"))
    assert json.loads(got.tool.parameters_json_schema)["required"] == ["value", "from_unit", "to_unit"]


async def test_register_get_invoke_delete_http_tool(server: RunningServer, base_url: str) -> None:
    tools = stub(server)
    tool = http_tool(base_url + "/echo/{city}", secret_headers={"X-Key": "weather_key"}, timeout_ms=2000)
    registered = await tools.RegisterTool(tool_pb2.RegisterToolRequest(tool=tool))
    assert registered.tool == tool
    assert (await tools.GetTool(tool_pb2.GetToolRequest(name="weather"))).tool == tool

    invoked = await tools.InvokeTool(
        tool_pb2.InvokeToolRequest(name="weather", arguments_json='{"city": "Lima"}')
    )
    result = json.loads(invoked.result_json)
    assert invoked.error == "" and result["path"] == "/echo/Lima" and invoked.duration_ms > 0
    assert result["headers"]["x-key"] == "k-123"  # the secret's value, sent by the server

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tools.RegisterTool(tool_pb2.RegisterToolRequest(tool=tool))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS

    await tools.DeleteTool(tool_pb2.DeleteToolRequest(name="weather"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tools.GetTool(tool_pb2.GetToolRequest(name="weather"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("tool", "fields"),
    [
        (http_tool("https://api.example.com/{city}", schema="{not json"), ["tool.parameters_json_schema"]),
        (
            http_tool("https://api.example.com/{city}", schema='{"type": "string"}'),
            ["tool.parameters_json_schema"],
        ),
        (http_tool("ftp://api.example.com/{city}"), ["tool.http.url_template"]),
        (http_tool("not a url"), ["tool.http.url_template"]),
        (
            http_tool("https://api.example.com/{city}", method=tool_pb2.HTTP_METHOD_UNSPECIFIED),
            ["tool.http.method"],
        ),
        (http_tool("https://api.example.com/{city}", name="bad name"), ["tool.name"]),
        (
            http_tool("https://api.example.com/{city}", secret_headers={"X-Key": "unknown"}),
            ["tool.http.secret_headers['X-Key']"],
        ),
        (
            tool_pb2.Tool(name="py", parameters_json_schema=CITY, kind=tool_pb2.TOOL_KIND_PYTHON),
            ["tool.kind", "tool.http", "tool.http.method", "tool.http.url_template"],
        ),
        (
            http_tool("gopher://x/{town}", schema="[", method=tool_pb2.HTTP_METHOD_UNSPECIFIED),
            ["tool.parameters_json_schema", "tool.http.method", "tool.http.url_template"],
        ),
    ],
)
async def test_register_bad_tools_is_invalid_argument(
    server: RunningServer, tool: tool_pb2.Tool, fields: list[str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).RegisterTool(tool_pb2.RegisterToolRequest(tool=tool))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sorted(violations(caught.value)) == sorted(fields)


async def test_python_tools_cannot_be_deleted_and_unknown_tools_are_not_found(server: RunningServer) -> None:
    tools = stub(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tools.DeleteTool(tool_pb2.DeleteToolRequest(name="convert_units"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    for call in (
        tools.DeleteTool(tool_pb2.DeleteToolRequest(name="nope")),
        tools.GetTool(tool_pb2.GetToolRequest(name="nope")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_invoke_python_tool_and_bad_arguments(server: RunningServer) -> None:
    tools = stub(server)
    arguments = json.dumps({"value": 0, "from_unit": "celsius", "to_unit": "fahrenheit"})
    invoked = await tools.InvokeTool(
        tool_pb2.InvokeToolRequest(name="convert_units", arguments_json=arguments)
    )
    assert json.loads(invoked.result_json)["result"] == 32
    for bad in ("{", "[1]", '{"value": "x", "from_unit": "km", "to_unit": "mile"}'):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await tools.InvokeTool(tool_pb2.InvokeToolRequest(name="convert_units", arguments_json=bad))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "arguments_json" in violations(caught.value)
    # A tool that fails at run time answers with an error, not a failed RPC.
    arguments = json.dumps({"value": 1, "from_unit": "kg", "to_unit": "km"})
    invoked = await tools.InvokeTool(
        tool_pb2.InvokeToolRequest(name="convert_units", arguments_json=arguments)
    )
    assert invoked.result_json == "" and invoked.error == "ValueError: cannot convert kg to km"


async def test_ssrf_is_an_error_of_the_call_not_of_the_rpc(base_url: str) -> None:
    running = await start_mock_server()  # no allowlist: 127.0.0.1 is off limits
    try:
        tools = stub(running)
        await tools.RegisterTool(tool_pb2.RegisterToolRequest(tool=http_tool(base_url + "/weather/{city}")))
        invoked = await tools.InvokeTool(
            tool_pb2.InvokeToolRequest(name="weather", arguments_json='{"city": "Paris"}')
        )
        assert invoked.result_json == "" and invoked.error.startswith("refused")
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)
