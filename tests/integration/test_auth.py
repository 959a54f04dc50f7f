"""Authentication, admin checks, isolation between users and rate limits on a real server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from autoglm.v1 import (
    generation_pb2,
    memory_pb2,
    model_pb2,
    model_pb2_grpc,
    tool_pb2,
    tool_pb2_grpc,
    user_pb2,
)
from autoglm_client.client import build_input
from autoglm_core.errors import FailedPrecondition
from autoglm_server.auth import check_exposure, is_loopback
from autoglm_server.server_settings import ServerSettings
from tests.conftest import RunningServer, start_mock_server
from tests.integration.auth_support import bearer, details_of, memory_stub, users_stub

ADMIN_KEY = "test-admin-secret"


@dataclass
class Member:
    user_id: str
    secret: str

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.secret)


@pytest.fixture
async def auth_server() -> AsyncIterator[RunningServer]:
    running = await start_mock_server(auth_enabled=True, admin_key=ADMIN_KEY)
    yield running
    await running.client.close()
    await running.server.stop(grace_s=0)


async def _member(running: RunningServer, name: str, admin: bool = False) -> Member:
    stub = users_stub(running.client.channel)
    md = bearer(ADMIN_KEY)
    user = (
        await stub.CreateUser(user_pb2.CreateUserRequest(name=name, age=30, admin=admin), metadata=md)
    ).user
    key = await stub.CreateApiKey(user_pb2.CreateApiKeyRequest(user_id=user.user_id), metadata=md)
    return Member(user.user_id, key.secret)


async def _code(call: object) -> grpc.StatusCode:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def _generate(running: RunningServer, prompt: str, md: object = (), **options: object) -> object:
    request = generation_pb2.GenerateRequest(input=build_input(prompt, max_new_tokens=4, **options))  # type: ignore[arg-type]
    return running.client.generation.Generate(request, metadata=md)


async def test_calls_without_a_valid_key_are_unauthenticated(auth_server: RunningServer) -> None:
    assert await _code(_generate(auth_server, "hi")) == grpc.StatusCode.UNAUTHENTICATED
    assert await _code(auth_server.client.list_models()) == grpc.StatusCode.UNAUTHENTICATED
    assert await _code(_generate(auth_server, "hi", bearer("nope"))) == grpc.StatusCode.UNAUTHENTICATED
    assert await _code(_generate(auth_server, "hi", (("authorization", ADMIN_KEY),))) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    stream = auth_server.client.generation.GenerateStream(
        generation_pb2.GenerateStreamRequest(input=build_input("hi"))
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        [e async for e in stream]
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await _code(_generate(auth_server, "hi", bearer(ADMIN_KEY))) == grpc.StatusCode.OK


async def test_health_and_reflection_need_no_key(auth_server: RunningServer) -> None:
    health = health_pb2_grpc.HealthStub(auth_server.client.channel)
    response = await health.Check(health_pb2.HealthCheckRequest(service=""))
    assert response.status == health_pb2.HealthCheckResponse.SERVING

    def services() -> list[str]:
        with grpc.insecure_channel(auth_server.target) as channel:
            return list(ProtoReflectionDescriptorDatabase(channel).get_services())

    assert "autoglm.v1.UserService" in await asyncio.to_thread(services)


async def test_admin_rpcs_need_an_admin(auth_server: RunningServer) -> None:
    alice = await _member(auth_server, "alice")
    bob = await _member(auth_server, "bob")
    channel = auth_server.client.channel
    users = users_stub(channel)
    models = model_pb2_grpc.ModelServiceStub(channel)
    tools = tool_pb2_grpc.ToolServiceStub(channel)
    denied = [
        users.CreateUser(user_pb2.CreateUserRequest(name="x", age=1), metadata=alice.md),
        users.ListUsers(user_pb2.ListUsersRequest(), metadata=alice.md),
        users.GetUser(user_pb2.GetUserRequest(user_id=bob.user_id), metadata=alice.md),
        users.CreateApiKey(user_pb2.CreateApiKeyRequest(user_id=alice.user_id), metadata=alice.md),
        users.DeleteUser(user_pb2.DeleteUserRequest(user_id=bob.user_id), metadata=alice.md),
        models.SetTrafficSplit(model_pb2.SetTrafficSplitRequest(name="mock"), metadata=alice.md),
        models.LoadModel(model_pb2.LoadModelRequest(), metadata=alice.md),
        models.UnloadModel(model_pb2.UnloadModelRequest(), metadata=alice.md),
        models.PromoteModelVersion(model_pb2.PromoteModelVersionRequest(name="mock"), metadata=alice.md),
        models.RollbackTrafficSplit(model_pb2.RollbackTrafficSplitRequest(name="mock"), metadata=alice.md),
        tools.RegisterTool(tool_pb2.RegisterToolRequest(), metadata=alice.md),
        tools.DeleteTool(tool_pb2.DeleteToolRequest(), metadata=alice.md),
        # Invoking a tool directly, with arguments the caller writes: admins only (least privilege).
        tools.InvokeTool(tool_pb2.InvokeToolRequest(name="get_time", arguments_json="{}"), metadata=alice.md),
    ]
    assert [await _code(call) for call in denied] == [grpc.StatusCode.PERMISSION_DENIED] * len(denied)
    me = await users.GetUser(user_pb2.GetUserRequest(user_id=alice.user_id), metadata=alice.md)
    assert me.name == "alice"
    assert (
        await _code(models.ListModels(model_pb2.ListModelsRequest(), metadata=alice.md)) == grpc.StatusCode.OK
    )
    root = await _member(auth_server, "root", admin=True)
    listed = await users.ListUsers(user_pb2.ListUsersRequest(), metadata=root.md)
    assert {"admin", "alice", "bob", "root"} <= {u.name for u in listed.users}


async def test_a_revoked_key_stops_working(auth_server: RunningServer) -> None:
    alice = await _member(auth_server, "alice")
    stub = users_stub(auth_server.client.channel)
    assert await _code(_generate(auth_server, "hi", alice.md)) == grpc.StatusCode.OK
    (key,) = (
        await stub.ListApiKeys(user_pb2.ListApiKeysRequest(user_id=alice.user_id), metadata=bearer(ADMIN_KEY))
    ).keys
    await stub.RevokeApiKey(user_pb2.RevokeApiKeyRequest(key_id=key.key_id), metadata=bearer(ADMIN_KEY))
    assert await _code(_generate(auth_server, "hi", alice.md)) == grpc.StatusCode.UNAUTHENTICATED


async def test_users_see_only_their_own_sessions_and_knowledge(auth_server: RunningServer) -> None:
    alice = await _member(auth_server, "alice")
    bob = await _member(auth_server, "bob")
    memory = memory_stub(auth_server.client.channel)
    await _generate(auth_server, "my secret plan", alice.md, session_id="s1")
    entry = (
        await memory.AddKnowledge(
            memory_pb2.AddKnowledgeRequest(text="Alice's locker code is 4711"), metadata=alice.md
        )
    ).entry
    got = await memory.GetSession(memory_pb2.GetSessionRequest(session_id="s1"), metadata=alice.md)
    assert got.session.user_id == alice.user_id and len(got.session.messages) == 2
    get_as_bob = memory.GetSession(memory_pb2.GetSessionRequest(session_id="s1"), metadata=bob.md)
    assert await _code(get_as_bob) == grpc.StatusCode.NOT_FOUND
    assert not (await memory.ListSessions(memory_pb2.ListSessionsRequest(), metadata=bob.md)).sessions
    search = await memory.SearchKnowledge(
        memory_pb2.SearchKnowledgeRequest(query="locker code"), metadata=bob.md
    )
    assert not search.matches
    delete_as_bob = memory.DeleteKnowledge(
        memory_pb2.DeleteKnowledgeRequest(entry_id=entry.entry_id), metadata=bob.md
    )
    assert await _code(delete_as_bob) == grpc.StatusCode.NOT_FOUND
    # Bob's session of the same id is his own, and starts empty.
    await _generate(auth_server, "hello", bob.md, session_id="s1")
    bobs = await memory.GetSession(memory_pb2.GetSessionRequest(session_id="s1"), metadata=bob.md)
    assert bobs.session.messages[0].content == "hello"
    # Deleting a user deletes its memory.
    users = users_stub(auth_server.client.channel)
    await users.DeleteUser(user_pb2.DeleteUserRequest(user_id=alice.user_id), metadata=bearer(ADMIN_KEY))
    container = auth_server.server.container
    assert await container.sessions().history(alice.user_id, "s1") == []
    assert (await container.knowledge().stats()).entries == 0


async def test_rate_limit_is_per_user_with_retry_info() -> None:
    running = await start_mock_server(auth_enabled=True, admin_key=ADMIN_KEY, rate_limit_per_minute=3)
    try:
        alice = await _member(running, "alice")  # the admin's 2 calls
        assert await _code(_generate(running, "x", bearer(ADMIN_KEY))) == grpc.StatusCode.OK
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _generate(running, "x", bearer(ADMIN_KEY))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        (retry,) = [d for d in details_of(caught.value) if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]
        info = error_details_pb2.RetryInfo()
        retry.Unpack(info)
        assert 10 < info.retry_delay.seconds <= 20
        assert await _code(_generate(running, "x", alice.md)) == grpc.StatusCode.OK
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


def test_no_auth_is_refused_off_loopback_unless_allowed(caplog: pytest.LogCaptureFixture) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    check_exposure(ServerSettings(backend="mock", host="127.0.0.1"))
    assert "authentication is disabled" in caplog.text
    with pytest.raises(FailedPrecondition):
        check_exposure(ServerSettings(backend="mock", host="0.0.0.0"))
    check_exposure(ServerSettings(backend="mock", host="0.0.0.0", allow_insecure_remote=True))
    check_exposure(ServerSettings(backend="mock", host="0.0.0.0", auth_enabled=True))


def test_cli_refuses_to_serve_everyone_without_auth(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "autoglm"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "autoglm_server.cli"]
    result = subprocess.run(
        [
            *command,
            "serve",
            "--backend",
            "mock",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "without authentication" in result.stderr
