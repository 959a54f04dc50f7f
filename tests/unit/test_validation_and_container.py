"""Request validation and the dependency-injection container."""

from __future__ import annotations

import math

import pytest
from dependency_injector import providers

from autoglm_core.backends.mock import MockBackend
from autoglm_core.errors import InvalidArgument
from autoglm_core.generation.types import GenerationParams
from autoglm_core.generation.validation import check_against_model, check_params
from autoglm_core.wiring.container import build_container
from autoglm_core.wiring.settings import Settings
from autoglm_server.server_settings import ServerSettings


def violations(params: GenerationParams) -> set[str]:
    with pytest.raises(InvalidArgument) as caught:
        check_params(params)
    return {v.field for v in caught.value.violations}


def test_valid_params_pass() -> None:
    check_params(GenerationParams(prompt="hi", temperature=0.7, top_p=0.9, top_k=40, max_new_tokens=8))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"temperature": math.nan}, "sampling.temperature"),
        ({"temperature": -0.1}, "sampling.temperature"),
        ({"top_p": 0.0}, "sampling.top_p"),
        ({"top_k": -1}, "sampling.top_k"),
        ({"max_new_tokens": 0}, "sampling.max_new_tokens"),
        ({"seed": -1}, "sampling.seed"),
        ({"priority": 10}, "priority"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": None}, "prompt"),
        ({"stop": ["a"] * 17}, "sampling.stop"),
    ],
)
def test_each_bad_field_is_named(change: dict[str, object], field: str) -> None:
    params = GenerationParams(prompt="hi")
    for key, value in change.items():
        setattr(params, key, value)
    assert field in violations(params)


def test_bad_role_in_messages() -> None:
    params = GenerationParams(messages=[{"role": "wizard", "content": "x"}])
    assert "conversation.messages[0].role" in violations(params)


def test_context_checks() -> None:
    with pytest.raises(InvalidArgument):
        check_against_model(GenerationParams(prompt="x"), prompt_tokens=100, context_length=100)
    with pytest.raises(InvalidArgument):
        check_against_model(GenerationParams(prompt="x", max_new_tokens=60), 50, 100)
    check_against_model(GenerationParams(prompt="x", max_new_tokens=50), 50, 100)


def test_container_selects_the_backend_from_configuration() -> None:
    container = build_container(Settings(backend="mock", model_name="demo", mock_token_latency_ms=5))
    backend = container.backend()
    assert isinstance(backend, MockBackend)
    assert backend.info.name == "demo" and backend.behaviour.token_latency_s == pytest.approx(0.005)
    assert container.engine() is container.engine()  # one engine per server


def test_container_provider_can_be_overridden() -> None:
    container = build_container(Settings(backend="transformers"))
    replacement = MockBackend(name="override")
    container.backend.override(providers.Object(replacement))
    assert container.backend() is replacement


def test_settings_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from pathlib import Path

    config = Path(str(tmp_path)) / "autoglm.yaml"
    config.write_text("port: 6000\nmax_running: 3\nbackend: mock\n")
    monkeypatch.setenv("AUTOGLM_CONFIG", str(config))
    monkeypatch.setenv("AUTOGLM_MAX_RUNNING", "7")
    settings = ServerSettings(host="0.0.0.0")
    assert (settings.port, settings.max_running, settings.host, settings.backend) == (
        6000,
        7,
        "0.0.0.0",
        "mock",
    )
    assert ServerSettings(max_running=9).max_running == 9  # flags (init arguments) win over the environment
