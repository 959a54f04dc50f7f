"""Server configuration: defaults < YAML file < environment (AUTOGLM_*) < command-line flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
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
    max_running: int = Field(16, ge=1, le=4096, description="Most requests generating at once.")
    max_queue: int = Field(256, ge=0, le=100_000, description="Most requests waiting for a slot.")
    queue_timeout_s: float = Field(30.0, gt=0, description="Longest wait in the queue, seconds.")
    grace_period_s: float = Field(10.0, ge=0, description="Time in-flight calls get on shutdown.")
    max_message_mb: int = Field(16, ge=1, le=256, description="Largest request message, MiB.")
    mock_token_latency_ms: float = Field(0.0, ge=0, description="Mock backend: delay per token.")
    log_level: str = Field("INFO", description="Python logging level.")
    data_dir: Path = Field(Path("~/.local/share/openautoglm"), description="Where state is stored.")

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
