"""A mock-backend server starts and serves every service without importing torch or transformers,
nor the MCP SDK while no MCP server is registered.

The server runs under `python -X importtime`, which writes every module the process imports to
stderr, lazy imports included, so a call that pulled torch in late would show up as well.
"""

from __future__ import annotations

import re
import sys

import grpc

from autoglm.v1 import memory_pb2, memory_pb2_grpc, tool_pb2, tool_pb2_grpc, user_pb2, user_pb2_grpc
from autoglm_client import AutoGLMClient
from benchmarks.server_process import ServerProcess

HEAVY = re.compile(r"\|\s+(torch|transformers|mcp)(\.\S+)?\s*$")


def test_mock_server_imports_neither_torch_nor_transformers(tmp_path: object) -> None:
    command = [sys.executable, "-X", "importtime", "-m", "autoglm_server.cli", "serve", "--port", "0"]
    flags = ["--backend", "mock", "--metrics-port", "0", "--data-dir", str(tmp_path)]
    with ServerProcess(flags, startup_timeout_s=120, command=command) as server:
        with AutoGLMClient(server.target, timeout=30) as client:
            assert client.generate("hello", max_new_tokens=8).text
            assert client.list_models().models
        with grpc.insecure_channel(server.target) as channel:
            tools = tool_pb2_grpc.ToolServiceStub(channel)
            assert "convert_units" in [t.name for t in tools.ListTools(tool_pb2.ListToolsRequest()).tools]
            converted = tools.InvokeTool(
                tool_pb2.InvokeToolRequest(
                    name="convert_units", arguments_json='{"value": 1, "from_unit": "km", "to_unit": "m"}'
                )
            )
            assert '"result": 1000' in converted.result_json
            memory = memory_pb2_grpc.MemoryServiceStub(channel)
            memory.AddKnowledge(memory_pb2.AddKnowledgeRequest(text="Paris is the capital of France."))
            found = memory.SearchKnowledge(memory_pb2.SearchKnowledgeRequest(query="capital of France"))
            assert found.matches
            users = user_pb2_grpc.UserServiceStub(channel)
            assert users.CreateUser(user_pb2.CreateUserRequest(name="ada", age=36)).user.user_id
    assert server.process is not None and server.process.stdout is not None
    output = "".join(server.startup_output) + server.process.stdout.read()
    assert "import time:" in output  # the check itself works
    assert [line for line in output.splitlines() if HEAVY.search(line)] == []
