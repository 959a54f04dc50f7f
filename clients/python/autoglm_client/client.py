"""The blocking client: one method per RPC of every autoglm.v1 service, plus health.

Methods return the resource a call is about (a User, a Tool, a Model) or the response when it has
more than one part; failed calls raise the typed errors of `autoglm_client.errors`.
`AsyncAutoGLMClient` (in `aio.py`) has the same methods as coroutines.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from autoglm.v1 import (
    generation_pb2,
    generation_pb2_grpc,
    memory_pb2,
    memory_pb2_grpc,
    model_pb2,
    model_pb2_grpc,
    tool_pb2,
    tool_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from autoglm_client import messages
from autoglm_client.aio import AsyncAutoGLMClient
from autoglm_client.errors import from_rpc_error
from autoglm_client.messages import Metadata, build_input, call_metadata
from autoglm_client.replicas import channel_options, channel_target
from autoglm_client.streams import Stream

__all__ = ["AsyncAutoGLMClient", "AutoGLMClient", "build_input"]

R = TypeVar("R")


class AutoGLMClient:
    """Blocking client. `timeout` (seconds) is each call's deadline unless a call gives its own;
    `api_key` is sent as `authorization: Bearer <key>` on every call.

    `target` is one address, or a list of replicas' addresses: then calls round-robin over them and
    a call failing with UNAVAILABLE is retried on another (autoglm_client.replicas)."""

    def __init__(
        self,
        target: str | Sequence[str] = "127.0.0.1:50051",
        *,
        timeout: float | None = 60.0,
        metadata: Metadata | None = None,
        api_key: str | None = None,
        channel: grpc.Channel | None = None,
    ) -> None:
        self.channel = channel or grpc.insecure_channel(
            channel_target(target), options=channel_options(target)
        )
        self.timeout = timeout
        self.metadata = tuple(metadata or ())
        self.api_key = api_key
        self.generation = generation_pb2_grpc.GenerationServiceStub(self.channel)
        self.models = model_pb2_grpc.ModelServiceStub(self.channel)
        self.users = user_pb2_grpc.UserServiceStub(self.channel)
        self.tools = tool_pb2_grpc.ToolServiceStub(self.channel)
        self.memory = memory_pb2_grpc.MemoryServiceStub(self.channel)
        self._health = health_pb2_grpc.HealthStub(self.channel)

    def __enter__(self) -> AutoGLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def _unary(
        self,
        method: Callable[..., R],
        request: Any,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> R:
        try:
            return method(
                request,
                timeout=timeout or self.timeout,
                metadata=call_metadata(self.metadata, self.api_key, request_id),
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # GenerationService

    def generate(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        **options: Any,
    ) -> generation_pb2.GenerateResponse:
        """Options: see `build_input` (messages, model, thinking, session_id, max_new_tokens, ...)."""
        request = generation_pb2.GenerateRequest(input=build_input(prompt, **options))
        return self._unary(self.generation.Generate, request, timeout, request_id)

    def stream(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        **options: Any,
    ) -> Stream[generation_pb2.GenerateStreamResponse]:
        """Events as they come. Call .cancel() on the returned stream to stop generation."""
        request = generation_pb2.GenerateStreamRequest(input=build_input(prompt, **options))
        call = self.generation.GenerateStream(
            request,
            timeout=timeout or self.timeout,
            metadata=call_metadata(self.metadata, self.api_key, request_id),
        )
        return Stream(call)

    def tokenize(self, text: str, *, model: str = "") -> generation_pb2.TokenizeResponse:
        return self._unary(self.generation.Tokenize, generation_pb2.TokenizeRequest(model=model, text=text))

    # ModelService

    def list_models(self) -> model_pb2.ListModelsResponse:
        return self._unary(self.models.ListModels, model_pb2.ListModelsRequest())

    def get_model(self, name: str) -> model_pb2.Model:
        return self._unary(self.models.GetModel, model_pb2.GetModelRequest(name=name)).model

    def load_model(
        self,
        name: str,
        version: str,
        *,
        source: str = "",
        backend: str = "",
        metrics: Mapping[str, float] | None = None,
        timeout: float | None = None,
    ) -> model_pb2.Model:
        """Loads a version with no traffic; give it traffic with set_traffic_split or promote."""
        request = messages.load_model(name, version, source, backend, metrics)
        return self._unary(self.models.LoadModel, request, timeout).model

    def unload_model(
        self, name: str, version: str, *, drain_timeout_s: float | None = None, timeout: float | None = None
    ) -> int:
        """Unloads a version once its calls have finished; returns how many it waited for."""
        request = messages.unload_model(name, version, drain_timeout_s)
        return self._unary(self.models.UnloadModel, request, timeout).drained_calls

    def load_adapter(self, model: str, name: str, source: str) -> model_pb2.Adapter:
        """Loads a LoRA adapter (a peft directory on the server) onto `model` (name or name@version)."""
        return self._unary(self.models.LoadAdapter, messages.load_adapter(model, name, source)).adapter

    def list_adapters(self, model: str = "") -> list[model_pb2.Adapter]:
        return list(
            self._unary(self.models.ListAdapters, model_pb2.ListAdaptersRequest(model=model)).adapters
        )

    def unload_adapter(
        self, model: str, name: str, *, drain_timeout_s: float | None = None, timeout: float | None = None
    ) -> int:
        """Unloads an adapter once its calls have finished; returns how many it waited for."""
        request = messages.unload_adapter(model, name, drain_timeout_s)
        return self._unary(self.models.UnloadAdapter, request, timeout).drained_calls

    def set_traffic_split(
        self, name: str, weights: Mapping[str, int], *, sticky: bool = False
    ) -> model_pb2.Model:
        """Shares of traffic per version, e.g. {"1.0.0": 95, "1.1.0": 5}."""
        request = messages.set_traffic_split(name, weights, sticky)
        return self._unary(self.models.SetTrafficSplit, request).model

    def promote_model_version(self, name: str, version: str) -> model_pb2.Model:
        request = model_pb2.PromoteModelVersionRequest(name=name, version=version)
        return self._unary(self.models.PromoteModelVersion, request).model

    def rollback_traffic_split(self, name: str) -> model_pb2.Model:
        request = model_pb2.RollbackTrafficSplitRequest(name=name)
        return self._unary(self.models.RollbackTrafficSplit, request).model

    # UserService

    def create_user(
        self, name: str, *, age: int = 0, admin: bool = False, request_id: str | None = None
    ) -> user_pb2.User:
        """A new user; `request_id` (a fresh one by default) makes retries of the call safe."""
        request = user_pb2.CreateUserRequest(
            name=name, age=age, admin=admin, request_id=request_id or uuid.uuid4().hex
        )
        return self._unary(self.users.CreateUser, request).user

    def get_user(self, user_id: str) -> user_pb2.User:
        return self._unary(self.users.GetUser, user_pb2.GetUserRequest(user_id=user_id)).user

    def update_user(self, user_id: str, *, name: str | None = None, age: int | None = None) -> user_pb2.User:
        """Changes only the fields given."""
        request = messages.update_user(user_id, name, age)
        return self._unary(self.users.UpdateUser, request).user

    def delete_user(self, user_id: str) -> None:
        self._unary(self.users.DeleteUser, user_pb2.DeleteUserRequest(user_id=user_id))

    def list_users(self, *, page_size: int = 0, page_token: str = "") -> user_pb2.ListUsersResponse:
        """One page; `next_page_token` is empty on the last. `iter_users` walks every page."""
        request = user_pb2.ListUsersRequest(page=messages.page(page_size, page_token))
        return self._unary(self.users.ListUsers, request)

    def iter_users(self, *, page_size: int = 0) -> Iterator[user_pb2.User]:
        token = ""
        while True:
            page = self.list_users(page_size=page_size, page_token=token)
            yield from page.users
            token = page.next_page_token
            if not token:
                return

    def create_api_key(
        self, user_id: str, *, label: str = "", request_id: str | None = None
    ) -> user_pb2.CreateApiKeyResponse:
        """The key's record and its secret: the only time the secret is shown (and to a retry with
        the same `request_id`, a fresh one by default, within an hour)."""
        request = user_pb2.CreateApiKeyRequest(
            user_id=user_id, label=label, request_id=request_id or uuid.uuid4().hex
        )
        return self._unary(self.users.CreateApiKey, request)

    def list_api_keys(self, user_id: str) -> list[user_pb2.ApiKey]:
        request = user_pb2.ListApiKeysRequest(user_id=user_id)
        return list(self._unary(self.users.ListApiKeys, request).keys)

    def revoke_api_key(self, key_id: str) -> None:
        self._unary(self.users.RevokeApiKey, user_pb2.RevokeApiKeyRequest(key_id=key_id))

    # ToolService

    def register_tool(self, tool: tool_pb2.Tool | Mapping[str, Any]) -> tool_pb2.Tool:
        """Registers an HTTP tool: a Tool (see `messages.http_tool`) or its JSON form as a dict."""
        request = tool_pb2.RegisterToolRequest(tool=messages.tool(tool))
        return self._unary(self.tools.RegisterTool, request).tool

    def list_tools(self) -> list[tool_pb2.Tool]:
        return list(self._unary(self.tools.ListTools, tool_pb2.ListToolsRequest()).tools)

    def get_tool(self, name: str) -> tool_pb2.Tool:
        return self._unary(self.tools.GetTool, tool_pb2.GetToolRequest(name=name)).tool

    def delete_tool(self, name: str) -> None:
        self._unary(self.tools.DeleteTool, tool_pb2.DeleteToolRequest(name=name))

    def invoke_tool(
        self, name: str, arguments: Mapping[str, Any] | str, *, timeout: float | None = None
    ) -> tool_pb2.InvokeToolResponse:
        """Runs a tool as the model would; a failing tool gives `error`, not an exception."""
        return self._unary(self.tools.InvokeTool, messages.invoke_tool(name, arguments), timeout)

    def register_mcp_server(self, server: tool_pb2.McpServer | Mapping[str, Any]) -> tool_pb2.McpServer:
        """Registers an MCP server (see `messages.mcp_http_server` / `mcp_stdio_server`); its tools
        appear in `list_tools` as `name.tool`. Needs an admin."""
        request = tool_pb2.RegisterMcpServerRequest(server=messages.mcp_server(server))
        return self._unary(self.tools.RegisterMcpServer, request).server

    def list_mcp_servers(self) -> list[tool_pb2.McpServer]:
        return list(self._unary(self.tools.ListMcpServers, tool_pb2.ListMcpServersRequest()).servers)

    def get_mcp_server(self, name: str) -> tool_pb2.McpServer:
        return self._unary(self.tools.GetMcpServer, tool_pb2.GetMcpServerRequest(name=name)).server

    def delete_mcp_server(self, name: str) -> None:
        """Removes an MCP server and its tools; its calls in flight end with an error. Needs an admin."""
        self._unary(self.tools.DeleteMcpServer, tool_pb2.DeleteMcpServerRequest(name=name))

    # MemoryService

    def get_session(self, session_id: str) -> memory_pb2.Session:
        request = memory_pb2.GetSessionRequest(session_id=session_id)
        return self._unary(self.memory.GetSession, request).session

    def list_sessions(self, *, page_size: int = 0, page_token: str = "") -> memory_pb2.ListSessionsResponse:
        request = memory_pb2.ListSessionsRequest(page=messages.page(page_size, page_token))
        return self._unary(self.memory.ListSessions, request)

    def iter_sessions(self, *, page_size: int = 0) -> Iterator[memory_pb2.Session]:
        token = ""
        while True:
            page = self.list_sessions(page_size=page_size, page_token=token)
            yield from page.sessions
            token = page.next_page_token
            if not token:
                return

    def delete_session(self, session_id: str) -> None:
        self._unary(self.memory.DeleteSession, memory_pb2.DeleteSessionRequest(session_id=session_id))

    def add_knowledge(
        self, text: str, *, metadata: Mapping[str, str] | None = None
    ) -> memory_pb2.KnowledgeEntry:
        return self._unary(self.memory.AddKnowledge, messages.add_knowledge(text, metadata)).entry

    def search_knowledge(self, query: str, *, limit: int = 0) -> list[memory_pb2.KnowledgeMatch]:
        request = memory_pb2.SearchKnowledgeRequest(query=query, limit=limit)
        return list(self._unary(self.memory.SearchKnowledge, request).matches)

    def delete_knowledge(self, entry_id: str) -> None:
        self._unary(self.memory.DeleteKnowledge, memory_pb2.DeleteKnowledgeRequest(entry_id=entry_id))

    # grpc.health.v1.Health

    def health(self, service: str = "") -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
        """SERVING or NOT_SERVING; "" = the process is live, a service name = it is ready."""
        request = health_pb2.HealthCheckRequest(service=service)
        return self._unary(self._health.Check, request).status
