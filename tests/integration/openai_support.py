"""A mock server with the OpenAI-compatible HTTP API on a free port, and the official SDK on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import openai

from autoglm_core.backends.mock import MockBehaviour
from tests.conftest import RunningServer, start_mock_server

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The time in a time zone.",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
    },
}


@dataclass
class HttpServer:
    running: RunningServer
    client: openai.AsyncOpenAI

    @property
    def base_url(self) -> str:
        assert self.running.server.http is not None
        return f"http://127.0.0.1:{self.running.server.http.port}/v1"

    def sdk(self, api_key: str = "unused") -> openai.AsyncOpenAI:
        # No retries: a test sees each answer as the server gave it.
        return openai.AsyncOpenAI(base_url=self.base_url, api_key=api_key, max_retries=0, timeout=30)


@asynccontextmanager
async def http_server(
    behaviour: MockBehaviour | None = None, **settings: object
) -> AsyncIterator[HttpServer]:
    running = await start_mock_server(behaviour, http_port=0, **settings)
    assert running.server.http is not None
    base_url = f"http://127.0.0.1:{running.server.http.port}/v1"
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)
    try:
        yield HttpServer(running, client)
    finally:
        await client.close()
        await running.client.close()
        await running.server.stop(grace_s=0)


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Waits until check() holds (the server's work finishes after the client has moved on)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)
