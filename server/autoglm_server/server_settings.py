"""The server's own settings (listening, message size, auth, logs, metrics, tracing) over the engine's."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from autoglm_core.wiring.settings import Settings


class ServerSettings(Settings):
    """Every setting of `autoglm serve`. Each field is also a flag, e.g. --max-running."""

    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 for every interface.")
    port: int = Field(50051, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
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
    drain_delay_s: float = Field(
        5.0,
        ge=0,
        description="On SIGTERM, seconds of reporting NOT_SERVING while still accepting calls (so load "
        "balancers move traffic away) before the listener closes and the grace period starts.",
    )
    stream_write_timeout_s: float = Field(
        20.0,
        ge=0,
        description="A stream whose client reads nothing for this long (its flow-control window full) "
        "is cancelled and its slot freed; keep it below watchdog_stall_s; 0 = never.",
    )
    check_database: bool = Field(
        True,
        description="Check a SQLite database for damage at start and refuse to serve a damaged one "
        "(reads every page: seconds for a large file).",
    )
    max_message_mb: int = Field(16, ge=1, le=256, description="Largest request message, MiB.")
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
    # Users and authentication (issue 6).
    auth_enabled: bool = Field(
        False, description="Require 'authorization: Bearer <api key>' on every RPC but health/reflection."
    )
    admin_key: SecretStr | None = Field(
        None, description="Bootstrap secret: an API key of an admin user, created on first start."
    )
    allow_insecure_remote: bool = Field(
        False, description="Allow listening on a non-loopback address with auth disabled."
    )

    @model_validator(mode="after")
    def _slow_readers_before_the_watchdog(self) -> ServerSettings:
        """A stream nobody reads stops its generation; the watchdog would take that for a wedged
        backend and restart it for everyone, unless the stream is cut first."""
        if 0 < self.watchdog_stall_s <= self.stream_write_timeout_s:
            raise ValueError(
                f"stream_write_timeout_s ({self.stream_write_timeout_s:g}) must be below "
                f"watchdog_stall_s ({self.watchdog_stall_s:g})"
            )
        return self
