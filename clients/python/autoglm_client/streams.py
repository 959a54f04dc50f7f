"""Server streams whose errors arrive typed, and which can be cancelled (the server then stops)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar

import grpc

from autoglm_client.errors import from_rpc_error

T = TypeVar("T")


class Stream(Generic[T]):
    """The events of a blocking server stream. `cancel()` stops the call and the server's work."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        try:
            return next(self._call)  # type: ignore[no-any-return]
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def cancel(self) -> bool:
        return bool(self._call.cancel())

    def initial_metadata(self) -> Any:
        return self._call.initial_metadata()

    def trailing_metadata(self) -> Any:
        return self._call.trailing_metadata()

    def code(self) -> grpc.StatusCode:
        return self._call.code()  # type: ignore[no-any-return]


class AsyncStream(Generic[T]):
    """The events of an asyncio server stream (`async for`). `cancel()` stops the call."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __aiter__(self) -> AsyncIterator[T]:
        return self._events()

    async def _events(self) -> AsyncIterator[T]:
        try:
            async for event in self._call:
                yield event
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def cancel(self) -> bool:
        return bool(self._call.cancel())

    async def initial_metadata(self) -> Any:
        return await self._call.initial_metadata()

    async def trailing_metadata(self) -> Any:
        return await self._call.trailing_metadata()

    async def code(self) -> grpc.StatusCode:
        return await self._call.code()  # type: ignore[no-any-return]
