"""How a model takes tools (native calls or the router), and the toolbox built from settings."""

from __future__ import annotations

import pytest

from autoglm_core.backends.mock import ByteTokenizer, MockBackend
from autoglm_core.errors import InvalidArgument
from autoglm_core.generation.types import ToolCallRecord
from autoglm_core.tools.agent import build_toolbox, chat_template, result_opening, result_text
from autoglm_core.tools.builtin import convert_units
from autoglm_core.tools.parsers import Glm45ToolCallParser, HermesToolCallParser


class _PlainTokenizer(ByteTokenizer):
    # Like SmolLM2's template: no tools anywhere, so the model never learnt to call them.
    chat_template = "{% for message in messages %}<|im_start|>{{ message['role'] }}{% endfor %}"


def backend(name: str = "mock", plain: bool = False) -> MockBackend:
    mock = MockBackend(name=name)
    if plain:
        mock._tokenizer = _PlainTokenizer()
    return mock


def test_mode_from_the_chat_template_and_settings() -> None:
    box = build_toolbox(router="lexical")
    assert box.mode_for(backend()) == "native"  # the mock's template supports tools
    assert box.mode_for(backend(plain=True)) == "router"
    box.modes = {"mock": "router"}
    assert box.mode_for(backend()) == "router"
    box.modes = {"*": "native"}
    assert box.mode_for(backend(plain=True)) == "native"
    assert build_toolbox(router="off").mode_for(backend(plain=True)) == "native"


def test_parser_by_model_name_or_template() -> None:
    box = build_toolbox(router="off")
    assert isinstance(box.parser_for(backend(), []), HermesToolCallParser)
    assert isinstance(box.parser_for(backend("glm-4.5-air"), []), Glm45ToolCallParser)
    assert chat_template(backend().tokenizer) == ByteTokenizer.chat_template


def test_resolve_allowed_tools() -> None:
    box = build_toolbox(router="off")
    assert [s.name for s in box.resolve(["get_time", "convert_units", "get_time"])] == [
        "get_time",
        "convert_units",
    ]
    with pytest.raises(InvalidArgument) as caught:
        box.resolve(["get_time", "nope", "nada"])
    [violation] = caught.value.violations
    assert (
        violation.field == "allowed_tools"
        and "'nope'" in violation.description
        and "'nada'" in violation.description
    )


def test_settings_reach_the_toolbox() -> None:
    from autoglm_core.wiring.container import build_container
    from autoglm_core.wiring.settings import Settings

    settings = Settings(
        backend="mock",
        tool_allowlist="127.0.0.1, 10.0.0.0/8",
        tool_secrets='{"k": "v"}',
        tool_modes='{"*": "router"}',
        tool_router="lexical",
        max_tool_iterations=2,
        tool_max_response_kb=8,
        embedder="lexical",
    )  # type: ignore[call-arg]
    box = build_container(settings).tools()
    assert box.executor.policy.allowlist == ("127.0.0.1", "10.0.0.0/8")
    assert box.executor.policy.secrets == {"k": "v"} and box.registry.secret_names == {"k"}
    assert box.executor.policy.max_response_bytes == 8 * 1024
    assert box.executor.limits.max_iterations == 2
    assert box.modes == {"*": "router"} and box.router is not None and box.router.embedder is None


def test_tool_results_put_the_value_first_with_its_unit() -> None:
    converted = ToolCallRecord("c0", "convert_units", {}, result=convert_units(100, "fahrenheit", "celsius"))
    assert result_text(converted) == "37.78 celsius (convert_units: value 100, from_unit fahrenheit)"
    assert result_opening(converted) == "According to convert_units: 37.78 celsius."
    failed = ToolCallRecord("c1", "calculate", {}, error="cannot divide by zero")
    assert result_text(failed) == "calculate failed: cannot divide by zero" and result_opening(failed) == ""
    plain = ToolCallRecord("c2", "lookup", {}, result={"city": "Oslo", "condition": "snow"})
    assert result_text(plain) == "city Oslo, condition snow (lookup)" and result_opening(plain) == ""
