"""The registered MCP servers: registration, their tools in the tool registry, calls, removal.

Each server's tools are published in the ToolRegistry as `server.tool` (kind "mcp") whenever its
tool list is read (on registration and every `refresh_s`), so ListTools, `allowed_tools`, the
agent loop and the router see them like any other tool. A server that cannot be reached keeps its
last tool list, shown as unavailable, and is reconnected in the background.

The MCP SDK (with its many pydantic models) is imported when the first server is registered: it adds
tens of megabytes and most of a second to start-up, which a server without MCP servers never needs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autoglm_core.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from autoglm_core.tools.http import HttpPolicy, ToolCallError
from autoglm_core.tools.mcp.network import check_url, pinned_client
from autoglm_core.tools.mcp.spec import (
    REMOTE_TOOL_NAME,
    McpServerSpec,
    State,
    namespaced,
    resolve_command,
    spec_violations,
)
from autoglm_core.tools.registry import (
    MAX_DESCRIPTION_CHARS,
    McpToolRef,
    ToolRegistry,
    ToolSpec,
    check_parameters_schema,
)

if TYPE_CHECKING:
    from mcp import Client, types

    from autoglm_core.tools.mcp.connection import McpConnection

log = logging.getLogger(__name__)

CLIENT_NAME, CLIENT_VERSION = "openautoglm", "0.1.0"


@dataclass(frozen=True)
class McpServerStatus:
    """A registered server as ListMcpServers shows it."""

    spec: McpServerSpec
    state: State
    last_error: str
    tool_names: tuple[str, ...]


class McpManager:
    """Every registered MCP server of this process; one per toolbox."""

    def __init__(
        self,
        registry: ToolRegistry,
        policy: HttpPolicy,
        *,
        stdio_commands: Iterable[str] = (),
        refresh_s: float = 60.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.stdio_commands = tuple(stdio_commands)
        self.refresh_s = refresh_s
        self.connect_timeout_s = connect_timeout_s
        self._servers: dict[str, tuple[McpServerSpec, McpConnection]] = {}

    async def register(self, spec: McpServerSpec) -> McpServerStatus:
        """Validates, connects and lists the tools; field paths are relative to the McpServer message."""
        violations = spec_violations(spec, frozenset(self.policy.secrets), self.stdio_commands)
        if violations:
            raise InvalidArgument(violations)
        if spec.name in self._servers:
            raise AlreadyExists(f"an MCP server named {spec.name!r} exists; delete it first")
        if spec.http is not None:
            try:
                await check_url(spec.http.url, self.policy)
            except ToolCallError as error:
                raise InvalidArgument.one("http.url", str(error)) from None
        from autoglm_core.tools.mcp.connection import McpConnection  # the SDK, on first use

        connection = McpConnection(
            spec.name,
            self._opener(spec),
            lambda tools: self._publish(spec, tools),
            refresh_s=self.refresh_s,
            connect_timeout_s=self.connect_timeout_s,
        )
        self._servers[spec.name] = (spec, connection)  # reserved while it connects
        try:
            await connection.start()
        except ToolCallError as error:
            self._forget(spec.name)
            raise FailedPrecondition(f"cannot use the MCP server {spec.name!r}: {error}") from None
        except BaseException:
            self._forget(spec.name)
            await connection.close()
            raise
        return self.status(spec.name)

    async def remove(self, name: str) -> None:
        """Removes a server and its tools; its calls in flight end with an error."""
        _, connection = self._entry(name)
        self._forget(name)
        await connection.close()

    def status(self, name: str) -> McpServerStatus:
        spec, connection = self._entry(name)
        names = tuple(s.name for s in self.registry.specs() if s.mcp is not None and s.mcp.server == name)
        return McpServerStatus(spec, connection.state, connection.last_error, names)

    def statuses(self) -> list[McpServerStatus]:
        return [self.status(name) for name in sorted(self._servers)]

    def available(self, server: str) -> bool:
        entry = self._servers.get(server)
        return entry is not None and entry[1].state == "available"

    async def call(self, ref: McpToolRef, arguments: dict[str, Any]) -> Any:
        """A tool's result as a JSON value. Raises ToolCallError (fed back to the model)."""
        entry = self._servers.get(ref.server)
        if entry is None:
            raise ToolCallError(f"the MCP server {ref.server!r} is not registered")
        from autoglm_core.tools.mcp.results import result_value  # the SDK is loaded: a server exists

        result = await entry[1].call(ref.tool, arguments)
        return result_value(result, self.policy.max_response_bytes)

    async def close(self) -> None:
        for name in list(self._servers):
            await self.remove(name)

    def _entry(self, name: str) -> tuple[McpServerSpec, McpConnection]:
        entry = self._servers.get(name)
        if entry is None:
            raise NotFound("MCP server", name)
        return entry

    def _forget(self, name: str) -> None:
        self._servers.pop(name, None)
        self.registry.remove_server_tools(name)

    def _publish(self, spec: McpServerSpec, tools: list[types.Tool]) -> None:
        if spec.name not in self._servers:
            return  # removed while it was listing
        self.registry.set_server_tools(spec.name, [s for t in tools if (s := tool_spec(spec, t)) is not None])

    def _opener(self, spec: McpServerSpec) -> Any:
        """A function that opens a new session with the server (each reconnect calls it)."""
        if spec.http is not None:
            url = spec.http.url
            headers = {
                header: self.policy.secrets[secret] for header, secret in spec.http.secret_headers.items()
            }
            return lambda: _http_session(url, headers, self.policy, self.connect_timeout_s)
        assert spec.stdio is not None, "a spec has one transport"
        command = resolve_command(spec.stdio.command, self.stdio_commands)
        assert command is not None, "checked by spec_violations"
        from mcp import Client, StdioServerParameters

        parameters = StdioServerParameters(
            command=command,
            args=list(spec.stdio.args),
            env={name: self.policy.secrets[secret] for name, secret in spec.stdio.secret_env.items()},
        )
        return lambda: Client(parameters, client_info=_client_info(), cache=None)


@asynccontextmanager
async def _http_session(
    url: str, headers: dict[str, str], policy: HttpPolicy, timeout_s: float
) -> AsyncIterator[Client]:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with pinned_client(policy, headers, timeout_s) as http:
        transport = streamable_http_client(
            url, http_client=http, max_sse_event_size=policy.max_response_bytes
        )
        async with Client(transport, client_info=_client_info(), cache=None) as client:
            yield client


def _client_info() -> types.Implementation:
    from mcp import types

    return types.Implementation(name=CLIENT_NAME, version=CLIENT_VERSION)


def tool_spec(server: McpServerSpec, tool: types.Tool) -> ToolSpec | None:
    """The registry's view of one MCP tool, or None for one we cannot offer (logged)."""
    if not REMOTE_TOOL_NAME.match(tool.name):
        log.warning("MCP server %r: tool name %r is not usable; skipped", server.name, tool.name)
        return None
    parameters = dict(tool.input_schema)
    if check_parameters_schema(parameters):
        log.warning("MCP server %r: tool %r has no valid object schema; skipped", server.name, tool.name)
        return None
    return ToolSpec(
        name=namespaced(server.name, tool.name),
        description=(tool.description or "")[:MAX_DESCRIPTION_CHARS],
        parameters=parameters,
        kind="mcp",
        mcp=McpToolRef(server.name, tool.name, server.timeout_s),
    )


__all__ = ["McpManager", "McpServerStatus", "tool_spec"]
