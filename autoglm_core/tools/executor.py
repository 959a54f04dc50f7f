"""Runs tool calls: validates the arguments against the schema, then calls the Python function or the
HTTP API under a timeout. A failing tool never raises: its error goes into the ToolCallRecord, which
the agent loop feeds back to the model and reports to the client."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from autoglm_core.generation.types import ToolCallRecord
from autoglm_core.telemetry import ATTR_MCP_SERVER, ATTR_TOOL_NAME, SPAN_TOOL_CALL, span
from autoglm_core.tools.http import HttpPolicy, ToolCallError, call_http_tool
from autoglm_core.tools.mcp.manager import McpManager
from autoglm_core.tools.registry import ToolRegistry, ToolSpec


@dataclass(frozen=True)
class ToolLimits:
    """Server settings of the agent loop."""

    call_timeout_s: float = 10.0  # one call
    total_timeout_s: float = 30.0  # all the calls of one turn together
    max_iterations: int = 4  # rounds of tool calls in one generation


@dataclass(frozen=True)
class PendingCall:
    """A call the model asked for, not run yet."""

    id: str
    name: str
    arguments: dict[str, Any]


def argument_errors(spec: ToolSpec, arguments: Any) -> list[str]:
    """What is wrong with arguments for spec's schema (empty when they are valid)."""
    validator = jsonschema.Draft202012Validator(spec.parameters)
    errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(arguments)'}: {e.message}" for e in errors]


def _jsonable(value: Any) -> Any:
    """The result as plain JSON values (the record is serialised for the model and the client)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


class ToolExecutor:
    """Executes calls against a registry; one per server."""

    def __init__(
        self, registry: ToolRegistry, policy: HttpPolicy, limits: ToolLimits, mcp: McpManager | None = None
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.limits = limits
        self.mcp = mcp

    async def invoke(self, call: PendingCall, spec: ToolSpec | None) -> ToolCallRecord:
        """Runs one call; spec None means the tool is unknown or not allowed for this request."""
        started = time.monotonic()
        with span(SPAN_TOOL_CALL) as calling:
            calling.set_attribute(ATTR_TOOL_NAME, call.name)
            if spec is not None and spec.mcp is not None:
                calling.set_attribute(ATTR_MCP_SERVER, spec.mcp.server)
            result, error = await self._outcome(call, spec)
            if error:
                calling.set_attribute("error.type", "tool_error")
        return ToolCallRecord(
            id=call.id,
            name=call.name,
            arguments=call.arguments,
            result=result,
            error=error,
            duration_ms=(time.monotonic() - started) * 1000,
            untrusted=spec is not None and spec.kind == "mcp",
        )

    async def run_all(
        self, calls: Sequence[PendingCall], allowed: Mapping[str, ToolSpec], timeout_s: float | None = None
    ) -> list[ToolCallRecord]:
        """Runs the independent calls of one turn in parallel, all under the total timeout (or
        timeout_s, when the request has less time left)."""
        if not calls:
            return []
        total = (
            self.limits.total_timeout_s if timeout_s is None else min(timeout_s, self.limits.total_timeout_s)
        )
        tasks = [asyncio.ensure_future(self.invoke(c, allowed.get(c.name))) for c in calls]
        try:
            _, pending = await asyncio.wait(tasks, timeout=max(total, 0.0))
        finally:
            # On timeout, and also when the request itself is cancelled (asyncio.wait would leave
            # the calls running).
            for task in tasks:
                task.cancel()
        records = []
        for call, task in zip(calls, tasks, strict=True):
            if task in pending:
                error = f"timed out: the turn's tools took more than {total:g} s"
                records.append(ToolCallRecord(call.id, call.name, call.arguments, error=error))
            else:
                records.append(task.result())
        return records

    async def _outcome(self, call: PendingCall, spec: ToolSpec | None) -> tuple[Any, str]:
        if spec is None:
            return None, f"unknown tool {call.name!r}"
        problems = argument_errors(spec, call.arguments)
        if problems:
            return None, "invalid arguments: " + "; ".join(problems)
        # An HTTP tool's or MCP server's own timeout (timeout_ms) replaces the default; the turn's
        # total still applies.
        own = spec.http.timeout_s if spec.http else spec.mcp.timeout_s if spec.mcp else None
        timeout = own or self.limits.call_timeout_s
        try:
            async with asyncio.timeout(timeout):
                return _jsonable(await self._execute(spec, call.arguments)), ""
        except TimeoutError:
            return None, f"timed out after {timeout:g} s"
        except ToolCallError as error:
            return None, str(error)
        except Exception as error:  # a Python tool's own failure is the model's business, not a crash
            return None, f"{type(error).__name__}: {error}"

    async def _execute(self, spec: ToolSpec, arguments: dict[str, Any]) -> Any:
        if spec.kind == "http":
            return await call_http_tool(spec, arguments, self.policy)
        if spec.mcp is not None:
            if self.mcp is None:
                raise ToolCallError("this server has no MCP support")
            return await self.mcp.call(spec.mcp, arguments)
        assert spec.function is not None, "a Python tool has a function"
        if inspect.iscoroutinefunction(spec.function):
            return await spec.function(**arguments)
        # A blocking function runs in a thread so it cannot stall the event loop (and the other
        # generations); on timeout the thread is abandoned, as Python threads cannot be killed.
        return await asyncio.to_thread(spec.function, **arguments)
