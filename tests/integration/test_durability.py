"""Acknowledged writes survive kill -9 of a real `autoglm serve` process; concurrent writers are safe."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from autoglm.v1 import common_pb2, generation_pb2, generation_pb2_grpc, memory_pb2, user_pb2
from autoglm_client.client import build_input
from tests.integration.auth_support import memory_stub, users_stub

SERVING = re.compile(r"autoglm: serving on (\S+):(\d+)")


def _command() -> list[str]:
    script = Path(sys.executable).parent / "autoglm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "autoglm_server.cli"]


@contextlib.asynccontextmanager
async def serve(data_dir: Path, log: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`autoglm serve` on the mock backend; yields the process and its address."""
    args = ["serve", "--backend", "mock", "--port", "0", "--data-dir", str(data_dir), "--embedder", "lexical"]
    env = {**os.environ, "AUTOGLM_METRICS_PORT": "0"}
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            *_command(), *args, stdout=asyncio.subprocess.PIPE, stderr=stderr, env=env
        )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
        match = SERVING.search(line.decode())
        assert match, f"no serving line: {line!r}; log: {log.read_text()[-2000:]}"
        yield process, f"127.0.0.1:{match.group(2)}"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _write_everything(target: str) -> tuple[list[str], list[str]]:
    """20 users and 20 knowledge entries written concurrently, plus a session; returns the ids."""
    async with grpc.aio.insecure_channel(target) as channel:
        users, memory = users_stub(channel), memory_stub(channel)
        created = asyncio.gather(
            *(users.CreateUser(user_pb2.CreateUserRequest(name=f"user-{i}", age=i)) for i in range(20))
        )
        added = asyncio.gather(
            *(
                memory.AddKnowledge(
                    memory_pb2.AddKnowledgeRequest(text=f"fact number {i}: the code is {i * 7}")
                )
                for i in range(20)
            )
        )
        generate = generation_pb2_grpc.GenerationServiceStub(channel).Generate(
            generation_pb2.GenerateRequest(
                input=build_input("remember me", max_new_tokens=5, session_id="durable")
            )
        )
        user_replies, knowledge_replies, _ = await asyncio.gather(created, added, generate)
    return [r.user.user_id for r in user_replies], [r.entry.entry_id for r in knowledge_replies]


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    async with serve(data_dir, log) as (process, target):
        user_ids, entry_ids = await _write_everything(target)
        process.kill()  # SIGKILL right after the acknowledgements: no shutdown, no flush
        await process.wait()
    assert process.returncode == -9
    with sqlite3.connect(data_dir / "autoglm.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    async with serve(data_dir, log) as (_, target), grpc.aio.insecure_channel(target) as channel:
        users, memory = users_stub(channel), memory_stub(channel)
        listed = await users.ListUsers(user_pb2.ListUsersRequest(page=common_pb2.PageRequest(page_size=100)))
        assert sorted(u.user_id for u in listed.users) == sorted(user_ids)
        one = await users.GetUser(user_pb2.GetUserRequest(user_id=user_ids[7]))
        assert one.name.startswith("user-") and one.user.user_id == user_ids[7]
        found = await memory.SearchKnowledge(
            memory_pb2.SearchKnowledgeRequest(query="fact number 13", limit=100)
        )
        assert {m.entry.entry_id for m in found.matches} == set(entry_ids)
        assert found.matches[0].entry.text == "fact number 13: the code is 91"
        session = await memory.GetSession(memory_pb2.GetSessionRequest(session_id="durable"))
        assert session.session.messages[0].content == "remember me"
        assert len(session.session.messages) == 2
