"""autoglm.v1.ToolService: HTTP tools and MCP servers registered at run time, every tool listed and
invoked."""

from __future__ import annotations

import json
from typing import Any

import grpc

from autoglm.v1 import tool_pb2, tool_pb2_grpc
from autoglm_core.errors import FailedPrecondition, FieldViolation, InvalidArgument
from autoglm_core.tools.agent import ToolBox
from autoglm_core.tools.executor import PendingCall, argument_errors
from autoglm_core.tools.mcp.manager import McpManager, McpServerStatus
from autoglm_core.tools.mcp.spec import McpHttp, McpServerSpec, McpStdio
from autoglm_core.tools.registry import HttpMethod, HttpSpec, ToolSpec
from autoglm_core.tools.shared import SharedTools
from autoglm_server.errors import field_prefix, unary_errors

Context = grpc.aio.ServicerContext[Any, Any]

_METHODS: dict[tool_pb2.HttpMethod.ValueType, HttpMethod] = {
    tool_pb2.HTTP_METHOD_GET: "GET",
    tool_pb2.HTTP_METHOD_POST: "POST",
}
_METHOD_ENUMS = {name: number for number, name in _METHODS.items()}
_KINDS = {"python": tool_pb2.TOOL_KIND_PYTHON, "http": tool_pb2.TOOL_KIND_HTTP, "mcp": tool_pb2.TOOL_KIND_MCP}
_MCP_STATES = {
    "connecting": tool_pb2.MCP_SERVER_STATE_CONNECTING,
    "available": tool_pb2.MCP_SERVER_STATE_AVAILABLE,
    "unavailable": tool_pb2.MCP_SERVER_STATE_UNAVAILABLE,
    "closed": tool_pb2.MCP_SERVER_STATE_UNAVAILABLE,
}


def tool_to_proto(spec: ToolSpec, available: bool = True) -> tool_pb2.Tool:
    message = tool_pb2.Tool(
        name=spec.name,
        description=spec.description,
        parameters_json_schema=json.dumps(spec.parameters, ensure_ascii=False),
        kind=_KINDS[spec.kind],
    )
    if spec.mcp is not None:  # other tools leave status unset: they are always callable
        message.mcp_server = spec.mcp.server
        message.status = tool_pb2.TOOL_STATUS_AVAILABLE if available else tool_pb2.TOOL_STATUS_UNAVAILABLE
    if spec.http is not None:
        message.http.method = _METHOD_ENUMS[spec.http.method]
        message.http.url_template = spec.http.url_template
        message.http.secret_headers.update(spec.http.secret_headers)
        if spec.http.timeout_s is not None:
            message.http.timeout_ms = round(spec.http.timeout_s * 1000)
    return message


def spec_from_proto(tool: tool_pb2.Tool) -> tuple[ToolSpec, list[FieldViolation]]:
    """The HTTP tool a RegisterTool asks for, and what is wrong with it that only the proto shows
    (the registry checks the rest). Field paths are relative to the Tool message."""
    violations: list[FieldViolation] = []
    if tool.kind != tool_pb2.TOOL_KIND_HTTP:
        violations.append(FieldViolation("kind", "must be TOOL_KIND_HTTP: Python tools are defined in code"))
    if not tool.HasField("http"):
        violations.append(FieldViolation("http", "must be set"))
    method = _METHODS.get(tool.http.method)
    if method is None:
        violations.append(FieldViolation("http.method", "must be HTTP_METHOD_GET or HTTP_METHOD_POST"))
    parameters: Any = {"type": "object", "properties": {}}
    if tool.parameters_json_schema.strip():
        try:
            parameters = json.loads(tool.parameters_json_schema)
        except json.JSONDecodeError as error:
            violations.append(FieldViolation("parameters_json_schema", f"not valid JSON: {error.msg}"))
    http = HttpSpec(
        method=method or "GET",
        url_template=tool.http.url_template,
        secret_headers=dict(tool.http.secret_headers),
        timeout_s=tool.http.timeout_ms / 1000 if tool.http.HasField("timeout_ms") else None,
    )
    spec = ToolSpec(tool.name, tool.description, parameters, "http", http=http)
    return spec, violations


def mcp_spec_from_proto(server: tool_pb2.McpServer) -> McpServerSpec:
    """The registration a RegisterMcpServer asks for (the manager validates it)."""
    transport = server.WhichOneof("transport")
    http = McpHttp(server.http.url, dict(server.http.secret_headers)) if transport == "http" else None
    stdio = None
    if transport == "stdio":
        stdio = McpStdio(server.stdio.command, tuple(server.stdio.args), dict(server.stdio.secret_env))
    timeout_s = server.timeout_ms / 1000 if server.HasField("timeout_ms") else None
    return McpServerSpec(server.name, http=http, stdio=stdio, timeout_s=timeout_s)


def mcp_server_to_proto(status: McpServerStatus) -> tool_pb2.McpServer:
    spec = status.spec
    message = tool_pb2.McpServer(
        name=spec.name,
        state=_MCP_STATES[status.state],
        last_error=status.last_error,
        tool_names=status.tool_names,
    )
    if spec.http is not None:
        message.http.url = spec.http.url
        message.http.secret_headers.update(spec.http.secret_headers)
    if spec.stdio is not None:
        message.stdio.command = spec.stdio.command
        message.stdio.args.extend(spec.stdio.args)
        message.stdio.secret_env.update(spec.stdio.secret_env)
    if spec.timeout_s is not None:
        message.timeout_ms = round(spec.timeout_s * 1000)
    return message


def _arguments(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidArgument.one("arguments_json", f"not valid JSON: {error.msg}") from None
    if not isinstance(arguments, dict):
        raise InvalidArgument.one("arguments_json", "must be a JSON object")
    return arguments


def _required_name(name: str) -> str:
    if not name:
        raise InvalidArgument.one("name", "must be set")
    return name


class ToolService(tool_pb2_grpc.ToolServiceServicer):
    def __init__(self, tools: ToolBox, shared: SharedTools | None = None) -> None:
        self._tools = tools
        # With replicas, HTTP tools are registered and deleted through the shared database.
        self._shared = shared

    @unary_errors
    async def RegisterTool(
        self, request: tool_pb2.RegisterToolRequest, context: Context
    ) -> tool_pb2.RegisterToolResponse:
        with field_prefix("tool."):
            spec, violations = spec_from_proto(request.tool)
            # Every problem at once: the proto-level ones and the registry's checks.
            schema_known = not any(v.field == "parameters_json_schema" for v in violations)
            violations += self._tools.registry.http_violations(spec, schema_known)
            if violations:
                raise InvalidArgument(violations)
            if self._shared is not None:
                registered = await self._shared.register(spec)
            else:
                registered = self._tools.registry.register_http(spec)
        return tool_pb2.RegisterToolResponse(tool=tool_to_proto(registered))

    @unary_errors
    async def ListTools(
        self, request: tool_pb2.ListToolsRequest, context: Context
    ) -> tool_pb2.ListToolsResponse:
        specs = self._tools.registry.specs()
        return tool_pb2.ListToolsResponse(tools=[tool_to_proto(s, self._available(s)) for s in specs])

    @unary_errors
    async def GetTool(self, request: tool_pb2.GetToolRequest, context: Context) -> tool_pb2.GetToolResponse:
        spec = self._tools.registry.get(_required_name(request.name))
        return tool_pb2.GetToolResponse(tool=tool_to_proto(spec, self._available(spec)))

    @unary_errors
    async def DeleteTool(
        self, request: tool_pb2.DeleteToolRequest, context: Context
    ) -> tool_pb2.DeleteToolResponse:
        name = _required_name(request.name)
        if self._shared is not None:
            await self._shared.delete(name)
        else:
            self._tools.registry.delete(name)
        return tool_pb2.DeleteToolResponse()

    @unary_errors
    async def InvokeTool(
        self, request: tool_pb2.InvokeToolRequest, context: Context
    ) -> tool_pb2.InvokeToolResponse:
        spec = self._tools.registry.get(_required_name(request.name))
        arguments = _arguments(request.arguments_json)
        # Here the caller wrote the arguments, so bad ones are the caller's error, not the tool's.
        problems = argument_errors(spec, arguments)
        if problems:
            raise InvalidArgument([FieldViolation("arguments_json", p) for p in problems])
        record = await self._tools.executor.invoke(PendingCall("invoke", spec.name, arguments), spec)
        result = "" if record.error else json.dumps(record.result, ensure_ascii=False)
        return tool_pb2.InvokeToolResponse(
            result_json=result, error=record.error, duration_ms=record.duration_ms
        )

    @unary_errors
    async def RegisterMcpServer(
        self, request: tool_pb2.RegisterMcpServerRequest, context: Context
    ) -> tool_pb2.RegisterMcpServerResponse:
        with field_prefix("server."):
            status = await self._mcp().register(mcp_spec_from_proto(request.server))
        return tool_pb2.RegisterMcpServerResponse(server=mcp_server_to_proto(status))

    @unary_errors
    async def ListMcpServers(
        self, request: tool_pb2.ListMcpServersRequest, context: Context
    ) -> tool_pb2.ListMcpServersResponse:
        servers = [mcp_server_to_proto(s) for s in self._mcp().statuses()]
        return tool_pb2.ListMcpServersResponse(servers=servers)

    @unary_errors
    async def GetMcpServer(
        self, request: tool_pb2.GetMcpServerRequest, context: Context
    ) -> tool_pb2.GetMcpServerResponse:
        status = self._mcp().status(_required_name(request.name))
        return tool_pb2.GetMcpServerResponse(server=mcp_server_to_proto(status))

    @unary_errors
    async def DeleteMcpServer(
        self, request: tool_pb2.DeleteMcpServerRequest, context: Context
    ) -> tool_pb2.DeleteMcpServerResponse:
        await self._mcp().remove(_required_name(request.name))
        return tool_pb2.DeleteMcpServerResponse()

    def _mcp(self) -> McpManager:
        if self._tools.mcp is None:
            raise FailedPrecondition("this server has no MCP support")
        return self._tools.mcp

    def _available(self, spec: ToolSpec) -> bool:
        """An MCP tool is available while its server is connected; other tools always are."""
        return spec.mcp is None or (
            self._tools.mcp is not None and self._tools.mcp.available(spec.mcp.server)
        )
