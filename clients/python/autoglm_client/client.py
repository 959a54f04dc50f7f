"""Sync and asyncio clients with the same methods. They depend only on grpcio and the stubs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from autoglm.v1 import (
    common_pb2,
    generation_pb2,
    generation_pb2_grpc,
    model_pb2,
    model_pb2_grpc,
)
from autoglm_client.formats import ResponseFormatLike, build_response_format

Metadata = Sequence[tuple[str, str]]
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


def build_input(
    prompt: str | None = None,
    *,
    messages: Sequence[dict[str, str]] | None = None,
    model: str = "",
    stop: Sequence[str] = (),
    thinking: bool = False,
    thinking_budget: int | None = None,
    session_id: str = "",
    priority: int | None = None,
    allowed_tools: Sequence[str] = (),
    logprobs: bool = False,
    time_limit_ms: int | None = None,
    response_format: ResponseFormatLike | None = None,
    **sampling: Any,
) -> generation_pb2.GenerationInput:
    """A GenerationInput from keyword arguments; sampling keys: temperature, top_p, top_k,
    max_new_tokens, min_new_tokens, seed, repetition_penalty. `response_format`: see
    build_response_format (a JSON Schema dict, a pydantic model class, {"type": "regex", ...})."""
    unknown = set(sampling) - set(_SAMPLING_FIELDS)
    if unknown:
        raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
    given = generation_pb2.GenerationInput(
        model=model,
        sampling=generation_pb2.SamplingParams(
            stop=list(stop), **{k: v for k, v in sampling.items() if v is not None}
        ),
        thinking=generation_pb2.ThinkingOptions(enabled=thinking, budget_tokens=thinking_budget),
        session_id=session_id,
        priority=priority,
        allowed_tools=list(allowed_tools),
        response=generation_pb2.ResponseOptions(include_logprobs=logprobs),
        time_limit_ms=time_limit_ms,
    )
    if response_format is not None:
        given.response_format.CopyFrom(build_response_format(response_format))
    if messages is not None:
        for m in messages:
            given.conversation.messages.add(role=_ROLES[m["role"]], content=m["content"])
    else:
        given.prompt = prompt or ""
    return given


def _with_request_id(metadata: Metadata, request_id: str | None) -> tuple[tuple[str, str], ...]:
    if request_id:
        return (*metadata, ("x-request-id", request_id))
    return tuple(metadata)


class AutoGLMClient:
    """Blocking client. `timeout` (seconds) is each call's deadline unless a call gives its own."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        timeout: float | None = 60.0,
        metadata: Metadata | None = None,
        channel: grpc.Channel | None = None,
    ) -> None:
        self.channel = channel or grpc.insecure_channel(target)
        self.timeout = timeout
        self.metadata = tuple(metadata or ())
        self.generation = generation_pb2_grpc.GenerationServiceStub(self.channel)
        self.models = model_pb2_grpc.ModelServiceStub(self.channel)
        self._health = health_pb2_grpc.HealthStub(self.channel)

    def __enter__(self) -> AutoGLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def generate(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        **options: Any,
    ) -> generation_pb2.GenerateResponse:
        request = generation_pb2.GenerateRequest(input=build_input(prompt, **options))
        return self.generation.Generate(  # type: ignore[no-any-return]
            request,
            timeout=timeout or self.timeout,
            metadata=_with_request_id(self.metadata, request_id),
        )

    def stream(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        **options: Any,
    ) -> Iterator[generation_pb2.GenerateStreamResponse]:
        """Events as they come. Call .cancel() on the returned iterator to stop generation."""
        request = generation_pb2.GenerateStreamRequest(input=build_input(prompt, **options))
        return self.generation.GenerateStream(  # type: ignore[no-any-return]
            request,
            timeout=timeout or self.timeout,
            metadata=_with_request_id(self.metadata, request_id),
        )

    def tokenize(self, text: str, *, model: str = "") -> generation_pb2.TokenizeResponse:
        request = generation_pb2.TokenizeRequest(model=model, text=text)
        return self.generation.Tokenize(request, timeout=self.timeout, metadata=self.metadata)  # type: ignore[no-any-return]

    def list_models(self) -> model_pb2.ListModelsResponse:
        request = model_pb2.ListModelsRequest()
        return self.models.ListModels(request, timeout=self.timeout, metadata=self.metadata)  # type: ignore[no-any-return]

    def health(self, service: str = "") -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
        request = health_pb2.HealthCheckRequest(service=service)
        return self._health.Check(request, timeout=self.timeout).status  # type: ignore[no-any-return]


class AsyncAutoGLMClient:
    """asyncio client with the same methods as AutoGLMClient."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        timeout: float | None = 60.0,
        metadata: Metadata | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        self.channel = channel or grpc.aio.insecure_channel(target)
        self.timeout = timeout
        self.metadata = tuple(metadata or ())
        self.generation = generation_pb2_grpc.GenerationServiceStub(self.channel)
        self.models = model_pb2_grpc.ModelServiceStub(self.channel)
        self._health = health_pb2_grpc.HealthStub(self.channel)

    async def __aenter__(self) -> AsyncAutoGLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def generate(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        **options: Any,
    ) -> generation_pb2.GenerateResponse:
        request = generation_pb2.GenerateRequest(input=build_input(prompt, **options))
        return await self.generation.Generate(  # type: ignore[no-any-return]
            request,
            timeout=timeout or self.timeout,
            metadata=_with_request_id(self.metadata, request_id),
        )

    def stream(
        self,
        prompt: str | None = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        **options: Any,
    ) -> grpc.aio.UnaryStreamCall[
        generation_pb2.GenerateStreamRequest, generation_pb2.GenerateStreamResponse
    ]:
        """An async iterator of events; call .cancel() on it to stop generation."""
        request = generation_pb2.GenerateStreamRequest(input=build_input(prompt, **options))
        return self.generation.GenerateStream(  # type: ignore[no-any-return]
            request,
            timeout=timeout or self.timeout,
            metadata=_with_request_id(self.metadata, request_id),
        )

    async def tokenize(self, text: str, *, model: str = "") -> generation_pb2.TokenizeResponse:
        request = generation_pb2.TokenizeRequest(model=model, text=text)
        return await self.generation.Tokenize(request, timeout=self.timeout, metadata=self.metadata)  # type: ignore[no-any-return]

    async def list_models(self) -> model_pb2.ListModelsResponse:
        request = model_pb2.ListModelsRequest()
        return await self.models.ListModels(request, timeout=self.timeout, metadata=self.metadata)  # type: ignore[no-any-return]

    async def health(self, service: str = "") -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
        request = health_pb2.HealthCheckRequest(service=service)
        response = await self._health.Check(request, timeout=self.timeout)
        return response.status  # type: ignore[no-any-return]
