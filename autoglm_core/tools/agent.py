"""What the engine's agent loop needs from the tools package: the allowed tools of a request, how a
model takes tools (native calls or the pre-generation router), its call parser, and the chat
messages that carry calls and results back into the prompt."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from autoglm_core.backends.base import Backend, ChatTokenizer
from autoglm_core.errors import InvalidArgument
from autoglm_core.generation.types import ToolCallRecord
from autoglm_core.memory.embedding import Embedder, MiniLMEmbedder, minilm_available
from autoglm_core.tools.builtin import register_builtins
from autoglm_core.tools.executor import PendingCall, ToolExecutor, ToolLimits
from autoglm_core.tools.http import HttpPolicy
from autoglm_core.tools.mcp.manager import McpManager
from autoglm_core.tools.parsers import ToolCallParser, parser_for_model
from autoglm_core.tools.registry import ToolRegistry, ToolSpec
from autoglm_core.tools.router import ToolRouter
from autoglm_core.tools.untrusted import delimited

ToolMode = Literal["native", "router", "choice"]


@dataclass
class ToolBox:
    """The server's tools and how generations use them (one per engine)."""

    registry: ToolRegistry
    executor: ToolExecutor
    router: ToolRouter | None = None
    # Model name (or "*" for all) -> "native", "router", "choice" (the model picks a tool by
    # constrained generation) or "auto" (decide from the chat template).
    modes: Mapping[str, str] = field(default_factory=dict)
    # The registered MCP servers, whose tools the registry holds as `server.tool`.
    mcp: McpManager | None = None

    async def close(self) -> None:
        """Ends the MCP sessions (and the stdio servers' processes)."""
        if self.mcp is not None:
            await self.mcp.close()

    def resolve(self, names: Sequence[str]) -> list[ToolSpec]:
        """The allowed tools of a request; unknown names are one violation of allowed_tools."""
        known = {spec.name: spec for spec in self.registry.specs()}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise InvalidArgument.one("allowed_tools", f"unknown tools: {', '.join(map(repr, unknown))}")
        return list({name: known[name] for name in names}.values())

    def mode_for(self, backend: Backend) -> ToolMode:
        """Router for models whose chat template cannot show tools (a sign the model never learnt
        to call them), unless a per-model setting says otherwise."""
        setting = self.modes.get(backend.info.name) or self.modes.get("*") or "auto"
        if setting == "choice":
            return "choice"
        if setting in ("native", "router"):
            return "router" if setting == "router" and self.router is not None else "native"
        template = chat_template(backend.tokenizer)
        if self.router is not None and template is not None and "tools" not in template:
            return "router"
        return "native"

    def parser_for(self, backend: Backend, tools: Sequence[ToolSpec]) -> ToolCallParser:
        return call_parser(backend, tools)


def call_parser(backend: Backend, tools: Sequence[ToolSpec]) -> ToolCallParser:
    """The call parser for the model's output format (by its name and chat template)."""
    key = f"{backend.info.name}\n{chat_template(backend.tokenizer) or ''}"
    return parser_for_model(key)({spec.name: spec.parameters for spec in tools})


def client_specs(schemas: Sequence[Mapping[str, Any]]) -> list[ToolSpec]:
    """ToolSpecs of the tools a caller runs itself, from their OpenAI function schemas."""
    specs = []
    for i, schema in enumerate(schemas):
        function = schema.get("function") if schema.get("type", "function") == "function" else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise InvalidArgument.one(f"tools[{i}]", "must be a function with a name")
        parameters = dict(function.get("parameters") or {"type": "object", "properties": {}})
        specs.append(ToolSpec(function["name"], str(function.get("description") or ""), parameters, "client"))
    return specs


def build_toolbox(
    *,
    secrets: Mapping[str, str] | None = None,
    allowlist: Sequence[str] = (),
    max_response_kb: int = 256,
    timeout_s: float = 10.0,
    total_timeout_s: float = 30.0,
    max_iterations: int = 4,
    router: str = "auto",
    embedder: Embedder | None = None,
    modes: Mapping[str, str] | None = None,
    mcp_stdio_commands: Sequence[str] = (),
    mcp_refresh_s: float = 60.0,
) -> ToolBox:
    """The server's toolbox from its settings, with the built-in Python tools registered."""
    registry = ToolRegistry(secret_names=(secrets or {}).keys())
    register_builtins(registry)
    policy = HttpPolicy(
        allowlist=tuple(allowlist),
        max_response_bytes=max_response_kb * 1024,
        default_timeout_s=timeout_s,
        secrets=dict(secrets or {}),
    )
    limits = ToolLimits(
        call_timeout_s=timeout_s, total_timeout_s=total_timeout_s, max_iterations=max_iterations
    )
    mcp = McpManager(
        registry,
        policy,
        stdio_commands=mcp_stdio_commands,
        refresh_s=mcp_refresh_s,
        connect_timeout_s=timeout_s,
    )
    executor = ToolExecutor(registry, policy, limits, mcp)
    return ToolBox(registry, executor, _router(router, embedder), dict(modes or {}), mcp)


def _router(kind: str, embedder: Embedder | None) -> ToolRouter | None:
    """off: none; lexical: word overlap; embedding: MiniLM (the shared embedder, or its own);
    auto: embeddings where MiniLM is installed (they match "raining" to a tool about rain, which
    words alone miss), else word overlap. Its own MiniLM loads on the first routed request."""
    if kind == "off":
        return None
    if kind == "embedding" or (kind == "auto" and (embedder is not None or minilm_available())):
        return ToolRouter(embedder or MiniLMEmbedder())
    return ToolRouter(None)


def chat_template(tokenizer: ChatTokenizer) -> str | None:
    """The chat template text, where the tokenizer (or the HF tokenizer it wraps) exposes it."""
    text = getattr(tokenizer, "chat_template_text", None)  # the transformers backend's adapter
    if isinstance(text, str):
        return text
    for holder in (tokenizer, *(getattr(tokenizer, a, None) for a in ("hf", "tokenizer", "_tokenizer"))):
        template = getattr(holder, "chat_template", None)
        if isinstance(template, dict):  # several named templates
            template = "\n".join(map(str, template.values()))
        if isinstance(template, str):
            return template
    return None


def result_json(record: ToolCallRecord) -> str:
    """What the model reads back: the result, or {"error": ...}; an external tool's between
    delimiters that mark it as data."""
    value = {"error": record.error} if record.error else record.result
    if record.untrusted:
        return delimited(record.name, value)
    return json.dumps(value, ensure_ascii=False, default=str)


def assistant_message(content: str, calls: Sequence[PendingCall]) -> dict[str, Any]:
    """The model's turn with its calls, in the OpenAI shape HF chat templates render."""
    return {
        "role": "assistant",
        "content": content,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ],
    }


def tool_message(record: ToolCallRecord) -> dict[str, Any]:
    return {"role": "tool", "content": result_json(record), "name": record.name, "tool_call_id": record.id}


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def result_text(record: ToolCallRecord) -> str:
    """A result in the form a small model copies: the value first with its unit named, then the
    rest of the result in brackets ("37.78 celsius (convert_units: value 100, from_unit fahrenheit)").
    An external tool's result is given whole, between delimiters that mark it as data."""
    if record.untrusted:
        return result_json(record)
    if record.error:
        return f"{record.name} failed: {record.error}"
    result = record.result
    if not isinstance(result, dict):
        return f"{_plain(result)} ({record.name})"
    rest = dict(result)
    head = " ".join(_plain(rest.pop(key)) for key in ("result", "unit") if key in rest)
    details = ", ".join(f"{key} {_plain(value)}" for key, value in rest.items())
    if not head:
        return f"{details} ({record.name})"
    return f"{head} ({record.name}: {details})" if details else f"{head} ({record.name})"


def result_opening(record: ToolCallRecord) -> str:
    """The sentence that opens an answer with a tool's result ("According to calculate: 50."), or
    "" for a failed call or a result without a headline value."""
    result = record.result
    if record.error or result is None or record.untrusted:  # never echo external text as our own
        return ""
    if isinstance(result, dict):
        if "result" not in result:
            return ""
        head = " ".join(_plain(result[key]) for key in ("result", "unit") if key in result)
    else:
        head = _plain(result)
    return f"According to {record.name}: {head}."


def _plain(value: Any) -> str:
    """Numbers as people write them (at most two decimals, no trailing zeros), others as JSON."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) >= 0.01 else f"{value:.3g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def with_router_context(
    messages: Sequence[Mapping[str, Any]], record: ToolCallRecord
) -> list[dict[str, Any]]:
    """The conversation with the router's tool result added to the last user message: small models
    use facts placed next to the question far better than a separate tool turn they were never
    trained on (SmolLM2's template has no tool role), and copy a value that comes first with its
    unit named (measured by benchmarks/quality_eval.py)."""
    copied = [dict(m) for m in messages]
    note = f"Tool result: {result_text(record)}."
    for message in reversed(copied):
        if message.get("role") == "user":
            message["content"] = f"{message.get('content') or ''}\n\n{note}"
            break
    return copied


def unrun_record(call: PendingCall, max_iterations: int) -> ToolCallRecord:
    """A call the loop did not run because it reached its iteration limit (reported, not executed)."""
    error = f"not run: the agent loop reached max_tool_iterations ({max_iterations})"
    return ToolCallRecord(call.id, call.name, call.arguments, error=error)


__all__ = [
    "PendingCall",
    "ToolBox",
    "ToolExecutor",
    "ToolMode",
    "assistant_message",
    "build_toolbox",
    "call_parser",
    "chat_template",
    "client_specs",
    "last_user_text",
    "result_json",
    "result_opening",
    "result_text",
    "tool_message",
    "unrun_record",
    "with_router_context",
]
