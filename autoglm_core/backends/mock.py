"""A deterministic backend for tests: no model, same request -> same tokens.

Its tokenizer is byte-level (one token per UTF-8 byte), so multi-byte characters arrive split across
tokens exactly as they can with a real BPE model; the engine's detokenizer must put them back
together. Latency and failures can be injected so tests can cover timing and faults.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from autoglm_core.backends.base import (
    BackendRequest,
    ChatMessageDict,
    ModelInfo,
    SamplingConfig,
    TokenChunk,
)
from autoglm_core.errors import FailedPrecondition, InvalidArgument, NotReady
from autoglm_core.runtime.kv_cache import KVCacheManager
from autoglm_core.runtime.runners.fake import FakeRunner
from autoglm_core.runtime.scheduler import Scheduler, SchedulerConfig
from autoglm_core.runtime.step_loop import StepLoop

# Ids 0-2 are special; byte b is token b + BYTE_OFFSET.
BOS_ID, EOS_ID, PAD_ID = 0, 1, 2
BYTE_OFFSET = 3
VOCAB_SIZE = 256 + BYTE_OFFSET

# Words the mock "model" picks from; a Chinese word and an emoji keep multi-byte paths honest.
_WORDS = ["alpha", "beta", "gamma", "delta", "模型", "服务", "🙂", "token", "stream", "grpc"]


class ByteTokenizer:
    """One token per UTF-8 byte, plus BOS/EOS/PAD. Its chat template is a plain transcript."""

    eos_token_ids: tuple[int, ...] = (EOS_ID,)
    # Like a real template that supports tools (Hermes calls), so the engine uses native tool calls.
    chat_template = "<|role|>content; {% if tools %}<|tools|>{% endif %}; <tool_call>{json}</tool_call>"

    def encode(self, text: str) -> list[int]:
        return [b + BYTE_OFFSET for b in text.encode("utf-8")]

    def decode(self, token_ids: Sequence[int]) -> str:
        data = bytes(t - BYTE_OFFSET for t in token_ids if t >= BYTE_OFFSET)
        return data.decode("utf-8", errors="replace")

    def token_texts(self, token_ids: Sequence[int]) -> list[str]:
        return [self.decode([t]) for t in token_ids]

    def render_chat(
        self,
        messages: Sequence[ChatMessageDict],
        *,
        enable_thinking: bool,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> str:
        lines = [f"<|{m['role']}|>{m.get('content') or ''}{_calls_text(m)}" for m in messages]
        if tools:
            # Tools in the OpenAI function format that Hugging Face chat templates take.
            lines.insert(0, "<|tools|>" + json.dumps([t["function"]["name"] for t in tools]))
        lines.append("<|assistant|>" + ("<think>" if enable_thinking else ""))
        return "\n".join(lines)


def _calls_text(message: ChatMessageDict) -> str:
    """An assistant message's tool calls, written back in the Hermes format the mock "model" uses."""
    calls = message.get("tool_calls") or []
    return "".join(f"<tool_call>{json.dumps(c['function'], ensure_ascii=False)}</tool_call>" for c in calls)


@dataclass
class MockBehaviour:
    """Knobs tests turn to shape the mock's timing, output and faults."""

    # Seconds each decoding step takes (every request in the batch gets one token per step).
    token_latency_s: float = 0.0
    # Seconds to sleep in load().
    load_latency_s: float = 0.0
    # Fail each request when it reaches this many tokens (None: never).
    fail_after_tokens: int | None = None
    # Make load() fail.
    fail_load: bool = False
    # Stop making progress (the whole runtime) when a request reaches this many tokens, until close()
    # ends the calls with an error (a wedged runtime; None: never).
    hang_after_tokens: int | None = None
    # Make health() report False (a runtime that knows it is broken).
    unhealthy: bool = False
    # When set, every reply is exactly this text (then EOS), instead of pseudo-random words.
    script: list[str] = field(default_factory=list)
    # With thinking on, the mock writes this much reasoning before the answer.
    reasoning_words: int = 4
    # Steer the script by each request's constraint (structured output, tool-call arguments); off, the
    # script is written as it is, e.g. to test how the server handles invalid tool calls.
    honour_constraints: bool = True


class MockBackend:
    """Implements autoglm_core.backends.base.Backend without a model, through the real runtime: the
    scheduler and step loop run as for a real model, with the fake runner in place of the model."""

    def __init__(
        self,
        *,
        name: str = "mock",
        version: str = "1.0.0",
        context_length: int = 4096,
        behaviour: MockBehaviour | None = None,
        supports_thinking: bool = True,
        scheduler: SchedulerConfig | None = None,
    ) -> None:
        self.behaviour = behaviour or MockBehaviour()
        self.scheduler_config = scheduler or SchedulerConfig()
        self._tokenizer = ByteTokenizer()
        self._info = ModelInfo(
            name=name,
            version=version,
            backend="mock",
            source="mock",
            context_length=context_length,
            eos_token_ids=(EOS_ID,),
            supports_thinking=supports_thinking,
            default_sampling=SamplingConfig(temperature=0.0, max_new_tokens=64),
        )
        self._loop: StepLoop | None = None
        # Observability for tests: which requests started, finished or were cancelled.
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.active: set[str] = set()
        self._script_index = 0

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def tokenizer(self) -> ByteTokenizer:
        return self._tokenizer

    @property
    def step_loop(self) -> StepLoop | None:
        return self._loop

    async def load(self) -> None:
        if self.behaviour.load_latency_s:
            await asyncio.sleep(self.behaviour.load_latency_s)
        if self.behaviour.fail_load:
            raise FailedPrecondition("mock backend was told to fail loading")
        if self._loop is not None:
            return
        runner = FakeRunner(self._reply_ids, EOS_ID, self.behaviour, vocab_size=VOCAB_SIZE)
        # The mock's cache costs nothing: room for every request the queue can hold at full length.
        kv = KVCacheManager(num_blocks=1 << 24, block_size=16)
        self._loop = StepLoop(Scheduler(self.scheduler_config, kv), runner, name="autoglm-mock-step")
        self._loop.start()

    async def health(self) -> bool:
        return self._loop is not None and self._loop.alive and not self.behaviour.unhealthy

    async def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.stop()
            await loop.join()

    def admit(self) -> None:
        if self._loop is not None:
            self._loop.admit()

    def reply_text(self, request: BackendRequest) -> str:
        """The full text this request produces (deterministic in prompt and seed)."""
        if self.behaviour.script:
            text = self.behaviour.script[self._script_index % len(self.behaviour.script)]
            self._script_index += 1
            return text
        digest = hashlib.sha256(bytes(str(list(request.prompt_ids)), "ascii")).digest()
        seed = int.from_bytes(digest[:8], "big")
        if request.sampling.temperature > 0:
            seed ^= request.sampling.seed
        rng = random.Random(seed)
        words = [rng.choice(_WORDS) for _ in range(request.sampling.max_new_tokens)]
        answer = " ".join(words)
        prompt = self._tokenizer.decode(request.prompt_ids)
        if prompt.endswith("<think>"):
            reasoning = " ".join(rng.choice(_WORDS) for _ in range(self.behaviour.reasoning_words))
            return f"\n{reasoning}\n</think>\n\n{answer}"
        return answer

    def _reply_ids(self, request: BackendRequest) -> list[int]:
        ids = self._tokenizer.encode(self.reply_text(request))
        if len(ids) < request.sampling.min_new_tokens:  # as a model kept from EOS: it goes on talking
            filler = self._tokenizer.encode(" " + " ".join(_WORDS))
            while len(ids) < request.sampling.min_new_tokens:
                ids += filler
        return ids

    async def generate(self, request: BackendRequest) -> AsyncGenerator[TokenChunk, None]:
        loop = self._loop
        if loop is None or not loop.alive:
            raise NotReady(f"model {self._info.name} is not loaded")
        room = self._info.context_length - len(request.prompt_ids)
        if room < 1:
            raise InvalidArgument.one("prompt_ids", f"the prompt fills the context of {room} tokens")
        max_new = min(request.sampling.max_new_tokens, room)
        self.active.add(request.request_id)
        completed = False
        try:
            async with aclosing(loop.generate(request, max_new, (EOS_ID,))) as chunks:
                async for chunk in chunks:
                    if chunk.queued_s is not None:  # the scheduler let it into the batch
                        self.started.append(request.request_id)
                    yield chunk
            completed = True
        finally:
            self.active.discard(request.request_id)
            (self.finished if completed else self.cancelled).append(request.request_id)
