"""A port is never shared, SIGTERM drains before refusing, a damaged database is refused."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from autoglm.v1 import memory_pb2, memory_pb2_grpc
from autoglm_core.backends.mock import MockBehaviour
from autoglm_core.errors import DataLoss
from autoglm_core.storage.database import DB_FILE_NAME
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings
from tests.conftest import start_mock_server

GENERATION = "autoglm.v1.GenerationService"


async def test_a_second_server_on_a_port_in_use_refuses_to_start() -> None:
    first = await start_mock_server()
    try:
        second = AutoGLMServer(
            ServerSettings(backend="mock", port=first.server.port, data_dir=tempfile.mkdtemp())
        )
        with pytest.raises(OSError, match="in use"):
            await second.start()
        await second.stop(grace_s=0)
        # The first one still has the port to itself.
        assert (await first.client.generate("x", max_new_tokens=2)).usage.completion_tokens == 2
    finally:
        await first.client.close()
        await first.server.stop(grace_s=0)


async def test_draining_reports_not_serving_but_still_accepts_calls() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.01))
    try:
        draining = asyncio.ensure_future(running.server.drain(delay_s=1.0))
        await asyncio.sleep(0.1)
        assert await running.client.health(GENERATION) == health_pb2.HealthCheckResponse.NOT_SERVING
        assert await running.client.health() == health_pb2.HealthCheckResponse.SERVING  # still alive
        reply = await running.client.generate("x", max_new_tokens=3)  # and still accepting
        assert reply.usage.completion_tokens == 3
        await draining
        await running.server.stop(grace_s=1)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running.client.generate("x", max_new_tokens=3, timeout=2)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def _damaged_database() -> str:
    """A data directory whose database has knowledge in it and garbage over its knowledge pages."""
    data_dir = tempfile.mkdtemp()
    running = await start_mock_server(data_dir=data_dir)
    memory = memory_pb2_grpc.MemoryServiceStub(running.client.channel)
    try:
        for i in range(200):  # random text: it does not compress, so the file has many pages
            text = f"fact {i}: " + os.urandom(2000).hex()
            await memory.AddKnowledge(memory_pb2.AddKnowledgeRequest(text=text))
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)
    path = Path(data_dir) / DB_FILE_NAME
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        # The root pages of the knowledge tables and their indexes: every search reads them.
        roots = [
            row[0]
            for row in connection.execute("SELECT rootpage FROM sqlite_master WHERE name LIKE '%knowledge%'")
        ]
    with path.open("r+b") as file:
        for page in roots:
            file.seek((page - 1) * page_size)
            file.write(b"\xa5" * page_size)
    return data_dir


async def test_a_damaged_database_is_refused_at_start() -> None:
    data_dir = await _damaged_database()
    with pytest.raises(DataLoss, match=r"damaged|cannot be read"):
        await start_mock_server(data_dir=data_dir)


async def test_reads_that_hit_damage_are_data_loss() -> None:
    data_dir = await _damaged_database()
    running = await start_mock_server(data_dir=data_dir, check_database=False)
    try:
        memory = memory_pb2_grpc.MemoryServiceStub(running.client.channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await memory.SearchKnowledge(memory_pb2.SearchKnowledgeRequest(query="fact", limit=5))
        assert caught.value.code() == grpc.StatusCode.DATA_LOSS
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)
