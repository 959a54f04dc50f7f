"""The server's own settings (listening, message size, auth, logs, metrics, tracing) over the engine's."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from autoglm_core.wiring.settings import Settings


class ServerSettings(Settings):
    """Every setting of `autoglm serve`. Each field is also a flag, e.g. --max-running."""

    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 for every interface.")
    port: int = Field(50051, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
    grace_period_s: float = Field(10.0, ge=0, description="Time in-flight calls get on shutdown.")
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
