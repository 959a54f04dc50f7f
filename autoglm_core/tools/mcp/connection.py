"""One MCP server's connection: a pooled session that calls share, reconnected when it breaks.

The SDK's client runs its transport in an anyio task group, which must be entered and left in one
task, and which cancels whatever runs inside it when the transport fails. So a supervisor task owns
the session (connect, list tools, refresh them periodically) and calls are made from the callers'
own tasks, where a lost connection arrives as an error (MCPError CONNECTION_CLOSED), never as a
cancellation. A call that finds the session broken wakes the supervisor, which reconnects with
backoff; while it cannot, the server is unavailable. Closing the connection (the server was
removed) cancels its calls in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

from mcp import Client, MCPError, types
from mcp_types import CONNECTION_CLOSED

from autoglm_core.tools.http import ToolCallError
from autoglm_core.tools.mcp.spec import State

log = logging.getLogger(__name__)

Opener = Callable[[], AbstractAsyncContextManager[Client]]
ToolsListener = Callable[[list[types.Tool]], None]

_MIN_BACKOFF_S = 0.5
_MAX_PAGES = 100  # a server that pages its tool list forever is cut off here


class McpConnection:
    """The session of one registered MCP server."""

    def __init__(
        self,
        name: str,
        opener: Opener,
        on_tools: ToolsListener,
        *,
        refresh_s: float,
        connect_timeout_s: float,
    ) -> None:
        self.name = name
        self.state: State = "connecting"
        self.last_error = ""
        self._open = opener
        self._on_tools = on_tools
        self._refresh_s = refresh_s
        self._connect_timeout_s = connect_timeout_s
        self._client: Client | None = None
        self._settled = asyncio.Event()  # an attempt to connect ended (up or failed)
        self._retry = asyncio.Event()  # reconnect now, not after the backoff
        self._wake = asyncio.Event()  # leave the session: it broke, or the server is removed
        self._closing = False
        self._calls: set[asyncio.Task[types.CallToolResult]] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connects and lists the tools once; raises ToolCallError (and stops) when that fails."""
        self._task = asyncio.create_task(self._supervise(), name=f"mcp:{self.name}")
        await self._settled.wait()
        if self.state != "available":
            error = self.last_error
            await self.close()
            raise ToolCallError(error)

    async def call(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Calls a tool on the server (the caller puts a timeout around it). Raises ToolCallError."""
        client = await self._connected()
        task = asyncio.ensure_future(client.call_tool(tool, arguments))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        try:
            # Cancelling the caller cancels the call's task too (it is what the caller awaits).
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._closing and (current is None or current.cancelling() == 0):
                raise ToolCallError(f"the MCP server {self.name!r} was removed during the call") from None
            raise
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:
                self._broken(error)
                raise ToolCallError(f"the connection to the MCP server {self.name!r} was lost") from None
            raise ToolCallError(f"MCP error {error.code}: {error.message}") from None
        except Exception as error:  # a transport failure the SDK passed on as it was
            self._broken(error)
            raise ToolCallError(f"the MCP server {self.name!r} failed: {describe(error)}") from None

    async def close(self) -> None:
        """Stops the session (a stdio server's process ends with it) and cancels calls in flight."""
        self._closing = True
        for task in list(self._calls):
            task.cancel()
        self._retry.set()
        self._wake.set()
        if self._task is not None and self._task is not asyncio.current_task():
            try:
                async with asyncio.timeout(self._connect_timeout_s + 5):
                    await asyncio.shield(self._task)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        self.state = "closed"

    async def _connected(self) -> Client:
        """The live session; when there is none, one reconnect attempt first."""
        if self._client is None and not self._closing:
            self._settled.clear()
            self._retry.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._connect_timeout_s):
                    await self._settled.wait()
        if self._client is None:
            detail = f": {self.last_error}" if self.last_error else ""
            raise ToolCallError(f"the MCP server {self.name!r} is unavailable{detail}")
        return self._client

    def _broken(self, error: BaseException) -> None:
        """A call found the session dead: unavailable at once, and the supervisor reconnects."""
        self.state, self.last_error = "unavailable", describe(error)
        self._wake.set()

    async def _supervise(self) -> None:
        backoff = _MIN_BACKOFF_S
        while not self._closing:
            self._settled.clear()
            try:
                await self._session()
                backoff = _MIN_BACKOFF_S
            except Exception as error:
                self.last_error = describe(error)
                log.warning("MCP server %r: %s", self.name, self.last_error)
            self._client = None
            self.state = "closed" if self._closing else "unavailable"
            self._settled.set()
            if self._closing:
                return
            self._retry.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await self._retry.wait()
            backoff = min(backoff * 2, self._refresh_s)

    async def _session(self) -> None:
        """One session: connect and list, then refresh the list until it breaks or is closed."""
        async with AsyncExitStack() as stack:
            async with asyncio.timeout(self._connect_timeout_s):
                client = await stack.enter_async_context(self._open())
                self._on_tools(await list_all_tools(client))
            self._client, self.state, self.last_error = client, "available", ""
            self._wake.clear()
            self._settled.set()
            while not self._closing:
                if await _wait(self._wake, self._refresh_s):
                    return
                async with asyncio.timeout(self._connect_timeout_s):
                    self._on_tools(await list_all_tools(client))


async def list_all_tools(client: Client) -> list[types.Tool]:
    """Every tool of the server, page by page, fresh from the server (not the client's cache)."""
    tools: list[types.Tool] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


async def _wait(event: asyncio.Event, timeout_s: float) -> bool:
    """Whether event was set within timeout_s."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await event.wait()
            return True
    return False


def describe(error: BaseException) -> str:
    """A one-line reason; an exception group (the SDK's task groups) by its first leaf."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, TimeoutError):
        return "timed out connecting or listing tools"
    if isinstance(error, MCPError):
        return f"MCP error {error.code}: {error.message}"
    if isinstance(error, ToolCallError):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


__all__ = ["McpConnection", "Opener", "describe", "list_all_tools"]
