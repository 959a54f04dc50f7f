"""The in-process AutoGLM API on the mock backend (the real model is covered in tests/e2e)."""

from __future__ import annotations

from pathlib import Path

from autoglm_core.generation.types import ContentDelta, Finished, FinishReason


def get_weather(city: str) -> dict[str, object]:
    """Current weather of a city.

    Args:
        city: Name of the city.
    """
    return {"city": city, "temperature_c": 21}


def test_generate_stream_and_tools(tmp_path: Path) -> None:
    from openautoglm import AutoGLM

    with AutoGLM(
        backend="mock",
        enable_thinking=True,
        tool_router=[get_weather],
        data_dir=tmp_path,
        embedder="lexical",
    ) as model:
        reply = model.generate("hello", max_new_tokens=150, allowed_tools=[])
        assert reply.reasoning and reply.text and "Answer:" in str(reply)
        events = list(model.stream("hello", max_new_tokens=20, thinking=False, allowed_tools=[]))
        assert isinstance(events[-1], Finished) and events[-1].finish_reason is FinishReason.LENGTH
        assert any(isinstance(e, ContentDelta) for e in events)

        backend = model.engine.registry.resolve("")
        backend.behaviour.script = [  # type: ignore[attr-defined]
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing"}}\n</tool_call>',
            "It is 21 degrees in Beijing.",
        ]
        answer = model.generate("What is the weather in Beijing?", max_new_tokens=200, thinking=False)
        assert [c.name for c in answer.tool_calls] == ["get_weather"]
        assert answer.tool_calls[0].result == {"city": "Beijing", "temperature_c": 21}
        assert answer.text == "It is 21 degrees in Beijing."


def test_response_format_returns_the_parsed_object(tmp_path: Path) -> None:
    import pydantic

    from openautoglm import AutoGLM

    class City(pydantic.BaseModel):
        name: str
        population: int

    # The script answers the same request differently each time: no response cache in front of it.
    with AutoGLM(backend="mock", data_dir=tmp_path, embedder="lexical", response_cache=False) as model:
        backend = model.engine.registry.resolve("")
        backend.behaviour.script = [  # type: ignore[attr-defined]
            '{"name": "Beijing", "population": 21893095}',
            '{"name": "Beijing", "population": 21893095}',
            '{"name": "Beij',
        ]
        reply = model.generate("Beijing as JSON", response_format=City, max_new_tokens=100)
        assert reply.parsed == City(name="Beijing", population=21893095)
        schema = City.model_json_schema()
        as_dict = model.generate("Beijing as JSON", response_format=schema, max_new_tokens=100)
        assert as_dict.parsed == {"name": "Beijing", "population": 21893095}
        cut = model.generate("Beijing as JSON", response_format=City, max_new_tokens=100)
        assert cut.parsed is None and cut.finished.incomplete
