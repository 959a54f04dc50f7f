"""UserService over a real server (auth off: every caller may do everything)."""

from __future__ import annotations

import grpc
import pytest

from autoglm.v1 import common_pb2, user_pb2
from tests.conftest import RunningServer
from tests.integration.auth_support import users_stub, violations


async def test_user_crud(mock_server: RunningServer) -> None:
    stub = users_stub(mock_server.client.channel)
    created = (await stub.CreateUser(user_pb2.CreateUserRequest(name="Ada", age=36))).user
    assert created.user_id and created.name == "Ada" and created.age == 36 and created.create_time > 0
    got = await stub.GetUser(user_pb2.GetUserRequest(user_id=created.user_id))
    assert (got.user_id, got.name, got.age) == (created.user_id, "Ada", 36)
    assert got.user == created
    updated = await stub.UpdateUser(user_pb2.UpdateUserRequest(user_id=created.user_id, age=0))
    assert (updated.user.name, updated.user.age) == ("Ada", 0)  # an explicit 0 is applied
    updated = await stub.UpdateUser(user_pb2.UpdateUserRequest(user_id=created.user_id, name="Ada L."))
    assert (updated.user.name, updated.user.age) == ("Ada L.", 0)
    await stub.DeleteUser(user_pb2.DeleteUserRequest(user_id=created.user_id))
    for call in (
        stub.GetUser(user_pb2.GetUserRequest(user_id=created.user_id)),
        stub.DeleteUser(user_pb2.DeleteUserRequest(user_id=created.user_id)),
        stub.UpdateUser(user_pb2.UpdateUserRequest(user_id=created.user_id, age=3)),
        stub.ListApiKeys(user_pb2.ListApiKeysRequest(user_id=created.user_id)),
        stub.RevokeApiKey(user_pb2.RevokeApiKeyRequest(key_id="k_nope")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_bad_fields_are_invalid_argument_with_violations(mock_server: RunningServer) -> None:
    stub = users_stub(mock_server.client.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateUser(user_pb2.CreateUserRequest(name="", age=151))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(caught.value)) == {"name", "age"}
    user = (await stub.CreateUser(user_pb2.CreateUserRequest(name="Bo", age=1))).user
    for request, field in (
        (stub.GetUser(user_pb2.GetUserRequest()), "user_id"),
        (stub.UpdateUser(user_pb2.UpdateUserRequest(user_id=user.user_id, name=" ")), "name"),
        (stub.CreateApiKey(user_pb2.CreateApiKeyRequest(user_id=user.user_id, label="x" * 201)), "label"),
        (
            stub.ListUsers(user_pb2.ListUsersRequest(page=common_pb2.PageRequest(page_token="garbage"))),
            "page.page_token",
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await request
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in violations(caught.value)


async def test_list_users_pages_with_opaque_tokens(mock_server: RunningServer) -> None:
    stub = users_stub(mock_server.client.channel)
    made = [(await stub.CreateUser(user_pb2.CreateUserRequest(name=f"u{i}", age=i))).user for i in range(5)]
    seen = []
    token = ""
    while True:
        page = await stub.ListUsers(
            user_pb2.ListUsersRequest(page=common_pb2.PageRequest(page_size=2, page_token=token))
        )
        assert len(page.users) <= 2
        seen.extend(page.users)
        token = page.next_page_token
        if not token:
            break
    assert [u.user_id for u in seen] == [u.user_id for u in made]


async def test_api_keys_are_created_listed_and_revoked(mock_server: RunningServer) -> None:
    stub = users_stub(mock_server.client.channel)
    user = (await stub.CreateUser(user_pb2.CreateUserRequest(name="Key holder", age=40))).user
    created = await stub.CreateApiKey(user_pb2.CreateApiKeyRequest(user_id=user.user_id, label="ci"))
    assert created.secret and created.key.user_id == user.user_id and created.key.label == "ci"
    listed = await stub.ListApiKeys(user_pb2.ListApiKeysRequest(user_id=user.user_id))
    assert [k.key_id for k in listed.keys] == [created.key.key_id]
    assert created.secret not in str(listed)  # never shown again
    await stub.RevokeApiKey(user_pb2.RevokeApiKeyRequest(key_id=created.key.key_id))
    listed = await stub.ListApiKeys(user_pb2.ListApiKeysRequest(user_id=user.user_id))
    assert listed.keys[0].revoked
