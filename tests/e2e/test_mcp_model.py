"""The real default model (SmolLM2-135M, which takes tools through the small-model router) calls a
tool of a real MCP server over streamable HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from autoglm.v1 import tool_pb2, tool_pb2_grpc
from autoglm_client import AsyncAutoGLMClient
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings
from tests.mcp_support import http_mcp_server, http_server_message

pytestmark = pytest.mark.model


@pytest.fixture
async def real_server(tmp_path: Path) -> AsyncIterator[tuple[AutoGLMServer, AsyncAutoGLMClient]]:
    settings = ServerSettings(
        backend="transformers",
        port=0,
        data_dir=tmp_path,
        metrics_port=0,
        embedder="lexical",
        tool_router="lexical",
        tool_allowlist=["127.0.0.1"],
        grace_period_s=1,
    )
    server = AutoGLMServer(settings)
    await server.start()
    client = AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=300)
    yield server, client
    await client.close()
    await server.stop(grace_s=0)


async def test_real_model_routes_to_an_mcp_tool(
    real_server: tuple[AutoGLMServer, AsyncAutoGLMClient],
) -> None:
    _, client = real_server
    with http_mcp_server() as web:
        tools = tool_pb2_grpc.ToolServiceStub(client.channel)
        await tools.RegisterMcpServer(
            tool_pb2.RegisterMcpServerRequest(server=http_server_message("web", web.url))
        )
        response = await client.generate(
            "What is the weather forecast for Paris?",
            allowed_tools=["web.forecast", "web.add"],
            max_new_tokens=24,
            temperature=0,
        )
    [record] = response.tool_calls
    assert record.name == "web.forecast" and not record.error
    assert json.loads(record.arguments_json) == {"city": "Paris"}
    assert json.loads(record.result_json) == {"city": "Paris", "conditions": "light rain"}
    # The result, given to the model as delimited untrusted data, still reaches the answer.
    assert "light rain" in response.text
