"""The runtime's scheduler behind a real server (mock backend, the real step loop): priorities under
a saturating load, and long prompts that do not stall running streams."""

from __future__ import annotations

import asyncio

from autoglm_core.backends.mock import MockBehaviour
from tests.conftest import start_mock_server


async def test_default_priority_is_served_at_once_under_a_saturating_bulk_load() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.01), max_running=2)
    try:
        bulk = [
            asyncio.create_task(running.client.generate("bulk", max_new_tokens=300, priority=9))
            for _ in range(6)
        ]
        while len(running.backend.started) < 2:
            await asyncio.sleep(0.01)
        reply = await running.client.generate("normal", max_new_tokens=5, priority=5)
        # It paused a bulk request rather than waiting for one of them to finish.
        assert reply.usage.completion_tokens == 5
        assert not any(task.done() for task in bulk)
        for task in bulk:
            task.cancel()
        await asyncio.gather(*bulk, return_exceptions=True)
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_a_long_prompt_is_prefilled_in_chunks_while_streams_keep_decoding() -> None:
    # The mock's tokenizer is byte-level: a 3,200-character prompt is over 3,200 tokens, 50 chunks of 64.
    running = await start_mock_server(MockBehaviour(token_latency_s=0.005), chunk_tokens=64, max_running=4)
    try:
        counts = [0, 0]

        async def stream(index: int) -> None:
            async for event in running.client.stream(f"s{index}", max_new_tokens=2000, min_new_tokens=2000):
                if event.HasField("content_delta"):  # one byte is one token of the mock's
                    counts[index] += len(event.content_delta.text.encode())

        streams = [asyncio.create_task(stream(i)) for i in range(2)]
        while min(counts) < 20:
            await asyncio.sleep(0.01)
        before = list(counts)
        long = await running.client.generate("x" * 3200, max_new_tokens=1)
        await asyncio.sleep(0.05)  # the streams' tokens of the last step reach the client
        during = [after - start for after, start in zip(counts, before, strict=True)]
        assert long.usage.prompt_tokens >= 3200
        # One step per chunk, and every step gave each running stream a token.
        assert min(during) >= 45
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)
