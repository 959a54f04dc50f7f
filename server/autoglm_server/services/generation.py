"""autoglm.v1.GenerationService."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import grpc

from autoglm.v1 import generation_pb2, generation_pb2_grpc
from autoglm_core.errors import InvalidArgument
from autoglm_core.generation.engine import Engine
from autoglm_core.generation.types import Finished, GenerationParams
from autoglm_server import convert
from autoglm_server.auth import current_caller
from autoglm_server.errors import field_prefix, stream_errors, unary_errors
from autoglm_server.observability.access import call_note
from autoglm_server.services.metadata import request_id
from autoglm_server.slow_readers import give_up, send

Context = grpc.aio.ServicerContext[Any, Any]


class GenerationService(generation_pb2_grpc.GenerationServiceServicer):
    def __init__(self, engine: Engine, write_timeout_s: float = 0.0) -> None:
        self._engine = engine
        # A stream whose client reads nothing for this long is cancelled (see slow_readers.py).
        self._write_timeout_s = write_timeout_s

    @unary_errors
    async def Generate(
        self, request: generation_pb2.GenerateRequest, context: Context
    ) -> generation_pb2.GenerateResponse:
        with field_prefix("input."):
            params = convert.params_from_proto(request.input, _caller_id(context), context.time_remaining())
            params.user_id = current_caller().user_id  # whose sessions and knowledge apply
            result = await self._engine.generate(params)
        _note_usage(params, result.finished)
        return convert.result_to_proto(result)

    @stream_errors
    async def GenerateStream(
        self, request: generation_pb2.GenerateStreamRequest, context: Context
    ) -> AsyncIterator[generation_pb2.GenerateStreamResponse]:
        with field_prefix("input."):
            params = convert.params_from_proto(request.input, _caller_id(context), context.time_remaining())
            params.user_id = current_caller().user_id  # whose sessions and knowledge apply
            # aclosing: a cancelled call closes the engine stream, which closes the backend's.
            async with aclosing(self._engine.stream(params)) as events:
                async for event in events:
                    if isinstance(event, Finished):
                        _note_usage(params, event)
                    # Written here rather than yielded, with a timeout: see slow_readers.py.
                    message = convert.event_to_proto(params.request_id, event)
                    if not await send(context, message, self._write_timeout_s):
                        break
                else:
                    return
        await give_up(context, self._write_timeout_s)  # the engine stream is closed: slot freed
        return
        yield  # an async generator, as gRPC and the interceptors expect of a streaming handler

    @unary_errors
    async def Tokenize(
        self, request: generation_pb2.TokenizeRequest, context: Context
    ) -> generation_pb2.TokenizeResponse:
        kind = request.WhichOneof("input")
        if kind is None:
            raise InvalidArgument.one("text", "either text or conversation must be set")
        if kind == "text":
            ids, texts = await self._engine.tokenize(request.model, text=request.text)
        else:
            messages = convert.messages_from_proto(request.conversation)
            ids, texts = await self._engine.tokenize(request.model, messages=messages)
        return generation_pb2.TokenizeResponse(token_ids=ids, tokens=texts)


def _caller_id(context: Context) -> str:
    """The caller's x-request-id, noted for the access log at once (failed calls log it too)."""
    call_note().request_id = given = request_id(context)
    return given


def _note_usage(params: GenerationParams, finished: Finished) -> None:
    """The call's ids and tokens, for its access log line."""
    note = call_note()
    note.request_id, note.call_id = params.request_id, params.call_id
    note.prompt_tokens = finished.usage.prompt_tokens
    note.completion_tokens = finished.usage.completion_tokens
