"""autoglm.v1.UserService. Admin-only RPCs are enforced by the auth interceptor (auth.ADMIN_METHODS)."""

from __future__ import annotations

from typing import Any

import grpc

from autoglm.v1 import user_pb2, user_pb2_grpc
from autoglm_core.memory.knowledge import KnowledgeStore
from autoglm_core.memory.sessions import SessionStore
from autoglm_core.users.store import ApiKey, User, UserStore
from autoglm_server.auth import require_self_or_admin
from autoglm_server.errors import unary_errors

Context = grpc.aio.ServicerContext[Any, Any]


def user_to_proto(user: User) -> user_pb2.User:
    return user_pb2.User(
        user_id=user.user_id, name=user.name, age=user.age, admin=user.admin, create_time=user.create_time
    )


def key_to_proto(key: ApiKey) -> user_pb2.ApiKey:
    return user_pb2.ApiKey(
        key_id=key.key_id,
        user_id=key.user_id,
        label=key.label,
        create_time=key.create_time,
        revoked=key.revoked,
    )


class UserService(user_pb2_grpc.UserServiceServicer):
    def __init__(self, users: UserStore, sessions: SessionStore, knowledge: KnowledgeStore) -> None:
        self._users = users
        self._sessions = sessions
        self._knowledge = knowledge

    @unary_errors
    async def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: Context
    ) -> user_pb2.CreateUserResponse:
        user = await self._users.create(request.name, request.age, request.admin, request.request_id)
        return user_pb2.CreateUserResponse(user=user_to_proto(user))

    @unary_errors
    async def GetUser(self, request: user_pb2.GetUserRequest, context: Context) -> user_pb2.GetUserResponse:
        require_self_or_admin(request.user_id)
        user = await self._users.get(request.user_id)
        return user_pb2.GetUserResponse(
            user_id=user.user_id, name=user.name, age=user.age, user=user_to_proto(user)
        )

    @unary_errors
    async def UpdateUser(
        self, request: user_pb2.UpdateUserRequest, context: Context
    ) -> user_pb2.UpdateUserResponse:
        user = await self._users.update(
            request.user_id,
            name=request.name if request.HasField("name") else None,
            age=request.age if request.HasField("age") else None,
        )
        return user_pb2.UpdateUserResponse(user=user_to_proto(user))

    @unary_errors
    async def DeleteUser(
        self, request: user_pb2.DeleteUserRequest, context: Context
    ) -> user_pb2.DeleteUserResponse:
        await self._users.delete(request.user_id)
        # The user's memory goes too (separate transactions: a crash between them leaves only
        # unreachable rows of a user id that is never reused).
        await self._sessions.delete_user(request.user_id)
        await self._knowledge.delete_user(request.user_id)
        return user_pb2.DeleteUserResponse()

    @unary_errors
    async def ListUsers(
        self, request: user_pb2.ListUsersRequest, context: Context
    ) -> user_pb2.ListUsersResponse:
        users, token = await self._users.list_page(request.page.page_size, request.page.page_token)
        return user_pb2.ListUsersResponse(users=[user_to_proto(u) for u in users], next_page_token=token)

    @unary_errors
    async def CreateApiKey(
        self, request: user_pb2.CreateApiKeyRequest, context: Context
    ) -> user_pb2.CreateApiKeyResponse:
        key, secret = await self._users.create_key(request.user_id, request.label, request.request_id)
        return user_pb2.CreateApiKeyResponse(key=key_to_proto(key), secret=secret)

    @unary_errors
    async def ListApiKeys(
        self, request: user_pb2.ListApiKeysRequest, context: Context
    ) -> user_pb2.ListApiKeysResponse:
        keys = await self._users.list_keys(request.user_id)
        return user_pb2.ListApiKeysResponse(keys=[key_to_proto(k) for k in keys])

    @unary_errors
    async def RevokeApiKey(
        self, request: user_pb2.RevokeApiKeyRequest, context: Context
    ) -> user_pb2.RevokeApiKeyResponse:
        await self._users.revoke_key(request.key_id)
        return user_pb2.RevokeApiKeyResponse()
