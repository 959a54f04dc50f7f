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
from array import array
from dataclasses import fields
from typing import Protocol

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
    """A hex digest of everything that determines the request's events.

    Keys live only in this process's memory, so `repr` is a stable enough spelling of each part;
    the prompt's ids are hashed as packed integers, which is cheaper than any text of them.
    """
    info = prepared.backend.info
    sampling = prepared.sampling
    # Greedy ignores the seed the server drew, so it is left out of a greedy request's key.
    seed = sampling.seed if sampling.temperature > 0 else None
    fmt = params.response_format
    tools = [spec.openai_schema() for spec in prepared.tools]
    parts = (
        (info.name, info.version, prepared.adapter),
        tuple(getattr(sampling, name) for name in _SAMPLING_FIELDS),
        seed,
        params.stop,
        (params.want_logprobs, params.top_logprobs),
        repr(fmt) if fmt is not None and fmt.constrained else None,
        (params.thinking, params.thinking_budget, prepared.thinking, prepared.enable_thinking),
        json.dumps(tools, sort_keys=True, default=repr) if tools else "",
        prepared.tool_mode,
        (params.tool_choice, params.parallel_tool_calls),
        params.prompt_template,
        PUBLIC_USER if params.cache_public else params.user_id,
    )
    head = repr(parts).encode("utf-8")
    digest = hashlib.sha256(len(head).to_bytes(8, "little"))
    digest.update(head)
    digest.update(array("q", prepared.prompt_ids).tobytes())
    return digest.hexdigest()


_SAMPLING_FIELDS = tuple(field.name for field in fields(SamplingConfig) if field.name != "seed")
