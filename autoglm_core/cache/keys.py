"""When a request may be answered from the cache, and the key of its answer.

The key hashes everything that decides the output: the model version and adapter, the prompt as
rendered (templates, session-free memory and tool schemas included, as token ids), the resolved
sampling parameters, stop strings, response format, thinking settings, the tools shown and the
caller's user. The user is part of the key unless the request is marked public: a cache shared
across users would tell one user, by the timing of a hit, what another one asked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any, Protocol

from autoglm_core.backends.base import Backend, SamplingConfig
from autoglm_core.generation.types import GenerationParams
from autoglm_core.tools.registry import ToolSpec

# Reasons a request is not looked up (span attribute and metrics label).
BYPASS_OFF = "off"
BYPASS_REQUEST = "request"
BYPASS_SESSION = "session"
BYPASS_TOOLS = "tools"
BYPASS_SAMPLING = "sampling"

# An adapter can be unloaded and loaded again under its name with other weights: its answers are
# not cached (a key by name would replay the old weights' answers).
BYPASS_ADAPTER = "adapter"
PUBLIC_USER = "\x00public"


class PreparedRequest(Protocol):
    """What the key needs of the engine's prepared request (generation/prepare.py's PreparedRequest)."""

    @property
    def backend(self) -> Backend: ...
    @property
    def prompt_ids(self) -> list[int]: ...
    @property
    def sampling(self) -> SamplingConfig: ...
    @property
    def tools(self) -> list[ToolSpec]: ...
    @property
    def tool_mode(self) -> str: ...
    @property
    def thinking(self) -> str: ...
    @property
    def enable_thinking(self) -> bool: ...
    @property
    def adapter(self) -> str: ...


def bypass_reason(params: GenerationParams, prepared: PreparedRequest) -> str | None:
    """Why this request must run the model (None: it may be cached)."""
    if not params.cache:
        return BYPASS_REQUEST
    if params.session_id:
        return BYPASS_SESSION  # the answer depends on, and is added to, the session's history
    if any(spec.kind != "client" for spec in prepared.tools):
        return BYPASS_TOOLS  # the server's tools may have side effects or change their answers
    if not is_deterministic(params, prepared.sampling):
        return BYPASS_SAMPLING
    if prepared.adapter:
        return BYPASS_ADAPTER
    return None


def is_deterministic(params: GenerationParams, sampling: SamplingConfig) -> bool:
    """Greedy decoding, or sampling from a seed the caller chose (a server-drawn seed is random)."""
    return sampling.temperature <= 0 or params.seed is not None


def cache_key(params: GenerationParams, prepared: PreparedRequest) -> str:
    """A hex digest of everything that determines the request's events."""
    info = prepared.backend.info
    sampling = asdict(prepared.sampling)
    if sampling["temperature"] <= 0:
        sampling["seed"] = None  # greedy ignores the seed the server drew
    fmt = params.response_format
    parts: dict[str, Any] = {
        "model": [info.name, info.version, prepared.adapter],
        "prompt": prepared.prompt_ids,
        "sampling": sampling,
        "stop": params.stop,
        "logprobs": [params.want_logprobs, params.top_logprobs],
        "format": repr(fmt) if fmt is not None and fmt.constrained else None,
        "thinking": [params.thinking, params.thinking_budget, prepared.thinking, prepared.enable_thinking],
        "tools": [[spec.openai_schema() for spec in prepared.tools], prepared.tool_mode],
        "tool_choice": [params.tool_choice, params.parallel_tool_calls],
        "template": params.prompt_template,
        "user": PUBLIC_USER if params.cache_public else params.user_id,
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
