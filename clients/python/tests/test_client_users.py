"""UserService through the client: users and API keys, sync and asyncio, with typed errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from conftest import ADMIN_KEY, LiveServer

from autoglm_client import AsyncAutoGLMClient, AutoGLMClient, errors


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_user_lifecycle(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=10) as client:
        name = unique("ada")
        user = client.create_user(name, age=36)
        assert user.user_id and user.name == name and user.age == 36 and not user.admin
        assert client.get_user(user.user_id) == user

        renamed = client.update_user(user.user_id, name=name + "-l")
        assert (renamed.name, renamed.age) == (name + "-l", 36)  # age not given: unchanged
        assert client.update_user(user.user_id, age=37).age == 37

        other = client.create_user(unique("grace"))
        first = client.list_users(page_size=1)
        assert len(first.users) == 1 and first.next_page_token
        listed = [u.user_id for u in client.iter_users(page_size=1)]  # one page per user
        assert {user.user_id, other.user_id} <= set(listed) and len(listed) == len(set(listed))

        client.delete_user(user.user_id)
        with pytest.raises(errors.NotFound) as raised:
            client.get_user(user.user_id)
        assert raised.value.resource is not None and user.user_id in raised.value.resource[1]


def test_api_keys_create_list_revoke(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=10) as client:
        user = client.create_user(unique("keys"))
        created = client.create_api_key(user.user_id, label="laptop")
        assert created.secret and created.key.label == "laptop" and not created.key.revoked
        assert [k.key_id for k in client.list_api_keys(user.user_id)] == [created.key.key_id]
        client.revoke_api_key(created.key.key_id)
        assert [k.revoked for k in client.list_api_keys(user.user_id)] == [True]
        with pytest.raises(errors.NotFound):
            client.revoke_api_key("no-such-key")


def test_bad_user_fields_carry_field_violations(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=10) as client, pytest.raises(errors.InvalidArgument) as raised:
        client.create_user("")
    error = raised.value
    assert [path for path, _ in error.field_violations] == ["name"]
    assert str(error).startswith("INVALID_ARGUMENT: ")


def test_api_key_authenticates_the_client(server_with: Callable[..., LiveServer]) -> None:
    secured = server_with("--auth-enabled", "true", "--admin-key", ADMIN_KEY)
    with AutoGLMClient(secured.target, timeout=10) as anonymous, pytest.raises(errors.Unauthenticated):
        anonymous.list_users()
    with AutoGLMClient(secured.target, timeout=10, api_key=ADMIN_KEY) as admin:
        user = admin.create_user(unique("bob"))
        secret = admin.create_api_key(user.user_id).secret
    with AutoGLMClient(secured.target, timeout=10, api_key=secret) as bob:
        assert bob.get_user(user.user_id).user_id == user.user_id
        with pytest.raises(errors.PermissionDenied):
            bob.create_user(unique("eve"))


async def test_async_users_and_keys(server: LiveServer) -> None:
    async with AsyncAutoGLMClient(server.target, timeout=10) as client:
        user = await client.create_user(unique("async"), age=5)
        assert (await client.get_user(user.user_id)).age == 5
        assert (await client.update_user(user.user_id, age=6)).age == 6
        assert (await client.list_users(page_size=1)).users
        assert user.user_id in [u.user_id async for u in client.iter_users(page_size=3)]
        key = await client.create_api_key(user.user_id)
        assert len(await client.list_api_keys(user.user_id)) == 1
        await client.revoke_api_key(key.key.key_id)
        await client.delete_user(user.user_id)
        with pytest.raises(errors.NotFound):
            await client.get_user(user.user_id)
