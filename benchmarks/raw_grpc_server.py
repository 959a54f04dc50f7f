"""The ceiling for `loadgen.py overhead`: GenerationService answered by grpc.aio with no work at all.

Unary Generate returns a canned response; GenerateStream sends `max_new_tokens` one-word content
events and a finished event. The same client against this and against the real server (mock backend)
shows how much of the budget per call is gRPC in Python itself and how much is ours.

    python benchmarks/raw_grpc_server.py     # prints "serving on 127.0.0.1:PORT"
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))

from autoglm.v1 import common_pb2, generation_pb2, generation_pb2_grpc


class EmptyGeneration(generation_pb2_grpc.GenerationServiceServicer):
    async def Generate(
        self, request: generation_pb2.GenerateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> generation_pb2.GenerateResponse:
        return generation_pb2.GenerateResponse(text="hello")

    async def GenerateStream(
        self, request: generation_pb2.GenerateStreamRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[generation_pb2.GenerateStreamResponse]:
        word = generation_pb2.ContentDelta(text=" word")
        for _ in range(request.input.sampling.max_new_tokens or 16):
            yield generation_pb2.GenerateStreamResponse(content_delta=word)
        yield generation_pb2.GenerateStreamResponse(
            finished=generation_pb2.StreamFinished(finish_reason=common_pb2.FINISH_REASON_LENGTH)
        )


async def serve() -> None:
    server = grpc.aio.server()
    generation_pb2_grpc.add_GenerationServiceServicer_to_server(EmptyGeneration(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"serving on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve())
