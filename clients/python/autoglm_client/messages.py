"""Request messages from keyword arguments: one builder per RPC, shared by the sync and asyncio clients."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format

from autoglm.v1 import common_pb2, generation_pb2, memory_pb2, model_pb2, tool_pb2, user_pb2
from autoglm_client.formats import ResponseFormatLike, build_response_format

_ROLES = {
    "system": common_pb2.ROLE_SYSTEM,
    "user": common_pb2.ROLE_USER,
    "assistant": common_pb2.ROLE_ASSISTANT,
    "tool": common_pb2.ROLE_TOOL,
}
_SAMPLING_FIELDS = (
    "temperature",
    "top_p",
    "top_k",
    "max_new_tokens",
    "min_new_tokens",
    "seed",
    "repetition_penalty",
)
_HTTP_METHODS = {"GET": tool_pb2.HTTP_METHOD_GET, "POST": tool_pb2.HTTP_METHOD_POST}
Metadata = Sequence[tuple[str, str]]


def call_metadata(
    metadata: Metadata, api_key: str | None, request_id: str | None = None
) -> tuple[tuple[str, str], ...]:
    """The metadata of a call: the client's own, the API key, and the caller's request id."""
    found = list(metadata)
    if api_key:
        found.append(("authorization", f"Bearer {api_key}"))
    if request_id:
        found.append(("x-request-id", request_id))
    return tuple(found)


def build_input(
    prompt: str | None = None,
    *,
    messages: Sequence[dict[str, str]] | None = None,
    model: str = "",
    adapter: str = "",
    stop: Sequence[str] = (),
    thinking: bool = False,
    thinking_budget: int | None = None,
    session_id: str = "",
    priority: int | None = None,
    allowed_tools: Sequence[str] = (),
    logprobs: bool = False,
    top_logprobs: int = 0,
    time_limit_ms: int | None = None,
    response_format: ResponseFormatLike | None = None,
    cache: bool | None = None,
    cache_public: bool = False,
    **sampling: Any,
) -> generation_pb2.GenerationInput:
    """A GenerationInput from keyword arguments; sampling keys: temperature, top_p, top_k,
    max_new_tokens, min_new_tokens, seed, repetition_penalty. `top_logprobs` (with `logprobs`): the
    most likely tokens to list at each position. `response_format`: see
    build_response_format (a JSON Schema dict, a pydantic model class, {"type": "regex", ...}).
    `cache=False` bypasses the server's response cache; `cache_public=True` shares the entry with
    every user (only for answers anyone may see)."""
    unknown = set(sampling) - set(_SAMPLING_FIELDS)
    if unknown:
        raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
    given = generation_pb2.GenerationInput(
        model=model,
        adapter=adapter,
        sampling=generation_pb2.SamplingParams(
            stop=list(stop), **{k: v for k, v in sampling.items() if v is not None}
        ),
        thinking=generation_pb2.ThinkingOptions(enabled=thinking, budget_tokens=thinking_budget),
        session_id=session_id,
        priority=priority,
        allowed_tools=list(allowed_tools),
        response=generation_pb2.ResponseOptions(include_logprobs=logprobs, top_logprobs=top_logprobs),
        time_limit_ms=time_limit_ms,
        cache=generation_pb2.CacheOptions(enabled=cache, public=cache_public),
    )
    if response_format is not None:
        given.response_format.CopyFrom(build_response_format(response_format))
    if messages is not None:
        for m in messages:
            given.conversation.messages.add(role=_ROLES[m["role"]], content=m["content"])
    else:
        given.prompt = prompt or ""
    return given


def page(page_size: int = 0, page_token: str = "") -> common_pb2.PageRequest:
    return common_pb2.PageRequest(page_size=page_size, page_token=page_token)


# ModelService


def load_model(
    name: str, version: str, source: str = "", backend: str = "", metrics: Mapping[str, float] | None = None
) -> model_pb2.LoadModelRequest:
    return model_pb2.LoadModelRequest(
        name=name, version=version, source=source, backend=backend, metrics=dict(metrics or {})
    )


def unload_model(
    name: str, version: str, drain_timeout_s: float | None = None
) -> model_pb2.UnloadModelRequest:
    drain_ms = round(drain_timeout_s * 1000) if drain_timeout_s is not None else 0
    return model_pb2.UnloadModelRequest(name=name, version=version, drain_timeout_ms=drain_ms)


def load_adapter(model: str, name: str, source: str) -> model_pb2.LoadAdapterRequest:
    return model_pb2.LoadAdapterRequest(model=model, name=name, source=source)


def unload_adapter(
    model: str, name: str, drain_timeout_s: float | None = None
) -> model_pb2.UnloadAdapterRequest:
    drain_ms = round(drain_timeout_s * 1000) if drain_timeout_s is not None else 0
    return model_pb2.UnloadAdapterRequest(model=model, name=name, drain_timeout_ms=drain_ms)


def set_traffic_split(
    name: str, weights: Mapping[str, int], sticky: bool = False
) -> model_pb2.SetTrafficSplitRequest:
    return model_pb2.SetTrafficSplitRequest(name=name, weights=dict(weights), sticky=sticky)


# UserService


def update_user(user_id: str, name: str | None = None, age: int | None = None) -> user_pb2.UpdateUserRequest:
    """Only the fields given change (`optional` fields in the contract)."""
    return user_pb2.UpdateUserRequest(user_id=user_id, name=name, age=age)


# ToolService


def tool(spec: tool_pb2.Tool | Mapping[str, Any]) -> tool_pb2.Tool:
    """A Tool from a message or from its JSON form (e.g. a file: name, description,
    parameters_json_schema or parameters, http: {method, url_template, secret_headers, timeout_ms})."""
    if isinstance(spec, tool_pb2.Tool):
        return spec
    data = dict(spec)
    if "parameters" in data:  # the schema as an object, which reads better in a file than a string
        data["parameters_json_schema"] = json.dumps(data.pop("parameters"))
    http = data.get("http")
    if isinstance(http, Mapping) and isinstance(http.get("method"), str):
        method = http["method"].upper()
        data["http"] = {**http, "method": _HTTP_METHODS.get(method, method)}
    data.setdefault("kind", "TOOL_KIND_HTTP")
    return json_format.ParseDict(data, tool_pb2.Tool())


def http_tool(
    name: str,
    description: str,
    parameters: Mapping[str, Any],
    url_template: str,
    *,
    method: str = "GET",
    secret_headers: Mapping[str, str] | None = None,
    timeout_ms: int | None = None,
) -> tool_pb2.Tool:
    """An HTTP tool: arguments not in the URL template go to the query (GET) or the JSON body (POST)."""
    return tool_pb2.Tool(
        name=name,
        description=description,
        parameters_json_schema=json.dumps(parameters),
        kind=tool_pb2.TOOL_KIND_HTTP,
        http=tool_pb2.HttpToolSpec(
            method=_HTTP_METHODS.get(method.upper(), tool_pb2.HTTP_METHOD_UNSPECIFIED),
            url_template=url_template,
            secret_headers=dict(secret_headers or {}),
            timeout_ms=timeout_ms,
        ),
    )


def mcp_server(spec: tool_pb2.McpServer | Mapping[str, Any]) -> tool_pb2.McpServer:
    """An McpServer from a message or its JSON form (name, http: {url, secret_headers} or
    stdio: {command, args, secret_env}, timeout_ms)."""
    if isinstance(spec, tool_pb2.McpServer):
        return spec
    return json_format.ParseDict(dict(spec), tool_pb2.McpServer())


def mcp_http_server(
    name: str, url: str, *, secret_headers: Mapping[str, str] | None = None, timeout_ms: int | None = None
) -> tool_pb2.McpServer:
    """A streamable HTTP MCP server; header values are the server's secrets, named here."""
    http = tool_pb2.McpHttpTransport(url=url, secret_headers=dict(secret_headers or {}))
    return tool_pb2.McpServer(name=name, http=http, timeout_ms=timeout_ms)


def mcp_stdio_server(
    name: str,
    command: str,
    args: Sequence[str] = (),
    *,
    secret_env: Mapping[str, str] | None = None,
    timeout_ms: int | None = None,
) -> tool_pb2.McpServer:
    """An MCP server the server starts over stdio; the command must be on its allowlist."""
    stdio = tool_pb2.McpStdioTransport(command=command, args=list(args), secret_env=dict(secret_env or {}))
    return tool_pb2.McpServer(name=name, stdio=stdio, timeout_ms=timeout_ms)


def invoke_tool(name: str, arguments: Mapping[str, Any] | str) -> tool_pb2.InvokeToolRequest:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return tool_pb2.InvokeToolRequest(name=name, arguments_json=text)


# MemoryService


def add_knowledge(text: str, metadata: Mapping[str, str] | None = None) -> memory_pb2.AddKnowledgeRequest:
    return memory_pb2.AddKnowledgeRequest(text=text, metadata=dict(metadata or {}))
