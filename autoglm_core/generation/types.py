"""Engine-side request, event and result types (the server converts these to and from protobuf)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from autoglm_core.structured.formats import ResponseFormat


class FinishReason(enum.Enum):
    EOS = "eos"
    LENGTH = "length"
    STOP_SEQUENCE = "stop_sequence"
    TIME_LIMIT = "time_limit"
    CANCELLED = "cancelled"
    TOOL_CALLS = "tool_calls"


@dataclass
class GenerationParams:
    """Everything a caller can ask of one generation. None means "use the model's default"."""

    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    model: str = ""
    # Adapter (LoRA) of the chosen model version; "" is the base model (or what the split routes to).
    adapter: str = ""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_new_tokens: int | None = None
    min_new_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    repetition_penalty: float | None = None
    thinking: bool = False
    thinking_budget: int | None = None
    allowed_tools: list[str] = field(default_factory=list)
    # Tools the caller runs itself, as OpenAI function schemas ({"type": "function", "function": {...}}).
    # A turn that calls one ends the generation (finish reason TOOL_CALLS); its calls are reported by
    # ToolCallStarted with no ToolCallFinished, for the caller to run and send back as tool messages.
    client_tools: list[dict[str, Any]] = field(default_factory=list)
    # "auto", "none" (no tools shown), "required" (the first turn must call a tool), or the name of
    # the tool the first turn must call. Forcing pre-fills the model's turn with the call's opening.
    tool_choice: str = "auto"
    # False: only the first call of a turn is made.
    parallel_tool_calls: bool = True
    session_id: str = ""
    priority: int = 5
    want_logprobs: bool = False
    # With want_logprobs: the most likely tokens to report at each position (0 to 20).
    top_logprobs: int = 0
    time_limit_s: float | None = None
    prompt_template: str = ""
    # The caller's id (x-request-id): echoed and logged only. call_id is the server's own, unique
    # per call; the monitor, the backend and metrics key everything by it.
    request_id: str = ""
    call_id: str = ""
    user_id: str = ""
    # Absolute deadline on time.monotonic(), from the caller's gRPC deadline.
    deadline: float | None = None
    # The shape the answer must have (JSON Schema, regex, ...); None or TEXT: free text.
    response_format: ResponseFormat | None = None
    # The response cache (deterministic requests only): False bypasses it; public shares the entry
    # with every user instead of keeping it under user_id.
    cache: bool = True
    cache_public: bool = False


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    # Of completion_tokens, those replayed from the response cache (all of them on a hit).
    cached_completion_tokens: int = 0


@dataclass(frozen=True)
class Timings:
    queue_ms: float = 0.0
    time_to_first_token_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class ToolCallRecord:
    id: str
    name: str
    arguments: dict[str, Any]
    result: Any = None
    error: str = ""
    duration_ms: float = 0.0
    # Output from outside the server (an MCP server): delimited as data when it enters the prompt.
    untrusted: bool = False


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ContentDelta:
    text: str
    logprobs: tuple[tuple[int, str, float], ...] = ()
    # Per entry of logprobs (when top_logprobs was asked for): the most likely (id, text, logprob).
    top_logprobs: tuple[tuple[tuple[int, str, float], ...], ...] = ()


@dataclass(frozen=True)
class ToolCallStarted:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolCallFinished:
    call: ToolCallRecord


@dataclass(frozen=True)
class Finished:
    finish_reason: FinishReason
    usage: Usage
    model_name: str
    model_version: str
    timings: Timings
    seed: int
    stop_sequence: str = ""
    prompt_template: str = ""
    # A response_format was asked for and the answer is not a complete document of it (cut short).
    incomplete: bool = False
    # How thinking was served: "off" (not asked), "native" (the model's thinking tokens), "prompted"
    # (a <think> format the model family follows), "unsupported" (asked of a model that does not
    # think natively: no reasoning is returned).
    thinking: str = "off"


GenerationEvent = ReasoningDelta | ContentDelta | ToolCallStarted | ToolCallFinished | Finished


@dataclass
class GenerationResult:
    """A whole generation, as the unary API and the in-process API return it."""

    request_id: str
    text: str
    reasoning: str
    reasoning_steps: list[str]
    tool_calls: list[ToolCallRecord]
    finished: Finished
    logprobs: list[tuple[int, str, float]] = field(default_factory=list)
    # Per entry of logprobs, when top_logprobs was asked for: the most likely (id, text, logprob).
    top_logprobs: list[tuple[tuple[int, str, float], ...]] = field(default_factory=list)
    # The answer as a Python value, for a complete JSON response_format (else None).
    parsed: Any = None

    def __str__(self) -> str:
        parts = []
        if self.reasoning_steps:
            steps = "\n".join(f"{i}. {s}" for i, s in enumerate(self.reasoning_steps, 1))
            parts.append(f"Reasoning:\n{steps}")
        elif self.finished.thinking == "unsupported":
            parts.append(f"Reasoning: none ({self.finished.model_name} does not think natively)")
        for call in self.tool_calls:
            parts.append(f"Tool {call.name}({call.arguments}) -> {call.error or call.result}")
        parts.append(f"Answer: {self.text}" if parts else self.text)
        return "\n\n".join(parts)
