"""The narrow contract between the engine and a model runtime: token ids in, token ids out.

Chat templates, detokenization, stop strings, reasoning and tools live in the engine, so a backend
only has to run a model. Cancellation is the closing of the async iterator that `generate` returns:
a backend must stop computing for that request and free its cache when that happens.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from autoglm_core.runtime.types import BackendRequest, SamplingConfig, TokenChunk

# The request and chunk types are the runtime's; the engine reaches them through this contract.
__all__ = [
    "Backend",
    "BackendRequest",
    "ChatMessageDict",
    "ChatTokenizer",
    "ModelInfo",
    "SamplingConfig",
    "TokenChunk",
]


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model reports about itself."""

    name: str
    version: str
    backend: str
    source: str
    context_length: int
    eos_token_ids: tuple[int, ...]
    device: str = "cpu"
    supports_thinking: bool = False
    default_sampling: SamplingConfig = field(default_factory=SamplingConfig)


ChatMessageDict = dict[str, Any]


@runtime_checkable
class ChatTokenizer(Protocol):
    """Text <-> token ids, plus the model's own chat template."""

    def encode(self, text: str) -> list[int]:
        """Token ids of text, without special tokens added."""
        ...

    def decode(self, token_ids: Sequence[int]) -> str:
        """Text of token ids, skipping special tokens."""
        ...

    def token_texts(self, token_ids: Sequence[int]) -> list[str]:
        """The text of each token on its own (for Tokenize and logprobs)."""
        ...

    def render_chat(
        self,
        messages: Sequence[ChatMessageDict],
        *,
        enable_thinking: bool,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> str:
        """The prompt text for messages, ending with the assistant's generation prompt."""
        ...


@runtime_checkable
class Backend(Protocol):
    """A model runtime. One instance serves one model version."""

    @property
    def info(self) -> ModelInfo: ...

    @property
    def tokenizer(self) -> ChatTokenizer: ...

    async def load(self) -> None:
        """Loads weights and warms up. Raises FailedPrecondition / NotFound with a clear message."""
        ...

    def generate(self, request: BackendRequest) -> AsyncGenerator[TokenChunk, None]:
        """Streams new tokens until EOS or max_new_tokens. Closing the iterator cancels the work."""
        ...

    def admit(self) -> None:
        """Raises QueueFull at once when the backend's queue has no room (called before a request's
        memory and prompt are prepared, so overload control covers that work too)."""
        ...

    async def health(self) -> bool:
        """True while the backend can serve."""
        ...

    async def close(self) -> None:
        """Frees the model."""
        ...
