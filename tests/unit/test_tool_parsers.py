"""Tool-call parsers on recorded-style Qwen3 (Hermes), GLM-4.5 and prompted-JSON outputs, in any chunking."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoglm_core.reasoning import ThinkingStreamParser
from autoglm_core.tools.parsers import (
    Glm45ToolCallParser,
    HermesToolCallParser,
    JsonToolCallParser,
    ParsedToolCall,
    ParseResult,
    Schemas,
    ToolCallParser,
    ToolCallParserFactory,
    call_opening,
    parse_text,
    parser_for_model,
)

WEATHER_SCHEMAS: Schemas = {
    "get_weather": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
    "search": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "zip": {"type": "string"},
            "limit": {"type": ["integer", "null"]},
            "filters": {"type": "object"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "exact": {"type": "boolean"},
            "score": {"anyOf": [{"type": "number"}, {"type": "null"}]},
        },
    },
    "run_python": {"type": "object", "properties": {"code": {"type": "string"}}},
}


def call(index: int, name: str, **arguments: Any) -> ParsedToolCall:
    return ParsedToolCall(f"call_{index}", name, arguments)


@dataclass(frozen=True)
class Case:
    name: str
    factory: ToolCallParserFactory
    text: str
    content: str
    calls: list[ParsedToolCall] = field(default_factory=list)
    errors: int = 0  # how many errors; their wording is not part of the contract


HERMES_CASES = [
    Case(
        "qwen3_one_call_after_text",
        HermesToolCallParser,
        "好的，我来查一下北京的天气。🌤️\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "北京", "unit": "celsius"}}\n</tool_call>',
        "好的，我来查一下北京的天气。🌤️",
        [call(0, "get_weather", city="北京", unit="celsius")],
    ),
    Case(
        "qwen3_only_call",
        HermesToolCallParser,
        '<tool_call>\n{"name": "final_answer", "arguments": {"trigger": true}}\n</tool_call>',
        "",
        [call(0, "final_answer", trigger=True)],
    ),
    Case(
        "qwen3_several_calls",
        HermesToolCallParser,
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "北京"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "東京 🗼"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "search", "arguments": {"query": "say \\"hi\\" </b>", '
        '"filters": {"lang": ["zh", "en"]}, "limit": 5}}\n</tool_call>',
        "",
        [
            call(0, "get_weather", city="北京"),
            call(1, "get_weather", city="東京 🗼"),
            call(2, "search", query='say "hi" </b>', filters={"lang": ["zh", "en"]}, limit=5),
        ],
    ),
    Case(
        "qwen3_no_whitespace_between_tags",
        HermesToolCallParser,
        '<tool_call>{"name": "search", "arguments": {"query": "cats"}}</tool_call>'
        '<tool_call>{"name": "search", "arguments": {"query": "dogs"}}</tool_call>',
        "",
        [call(0, "search", query="cats"), call(1, "search", query="dogs")],
    ),
    Case(
        "qwen3_text_after_call_keeps_its_separator",
        HermesToolCallParser,
        'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        "I have asked for the weather.\n",
        "Checking.\n\nI have asked for the weather.",
        [call(0, "get_weather", city="Paris")],
    ),
    Case(
        "plain_answer_with_angle_brackets",
        HermesToolCallParser,
        "If a < b then use <tool> or <tool_calls> 🙂, not <tool_cal.\n",
        "If a < b then use <tool> or <tool_calls> 🙂, not <tool_cal.",
    ),
    Case(
        "arguments_serialised_twice",
        HermesToolCallParser,
        '<tool_call>\n{"name": "get_db_config", '
        '"arguments": "{\\"param\\": \\"max_connections\\"}"}\n</tool_call>',
        "",
        [call(0, "get_db_config", param="max_connections")],
    ),
    Case(
        "parameters_key_and_no_arguments",
        HermesToolCallParser,
        '<tool_call>{"name": "a", "parameters": {"x": 1}}</tool_call><tool_call>{"name": "now"}</tool_call>',
        "",
        [call(0, "a", x=1), call(1, "now")],
    ),
    Case(
        "malformed_json_is_an_error_and_later_calls_survive",
        HermesToolCallParser,
        'Let me try.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "北京"}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "上海"}}\n</tool_call>',
        "Let me try.",
        [call(0, "get_weather", city="上海")],
        errors=1,
    ),
    Case(
        "missing_name_and_non_object_arguments_are_errors",
        HermesToolCallParser,
        '<tool_call>{"arguments": {}}</tool_call><tool_call>{"name": "f", "arguments": [1]}</tool_call>'
        "<tool_call>[1, 2]</tool_call>",
        "",
        errors=3,
    ),
    Case(
        "unterminated_but_complete_call_at_end",
        HermesToolCallParser,
        '<tool_call>\n{"name": "final_answer", "arguments": {"trigger": true}}',
        "",
        [call(0, "final_answer", trigger=True)],
    ),
    Case(
        "call_cut_off_by_token_limit",
        HermesToolCallParser,
        'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "北',
        "Sure.",
        errors=1,
    ),
    Case("empty", HermesToolCallParser, "", ""),
]


def glm(schemas: Schemas | None = WEATHER_SCHEMAS) -> ToolCallParserFactory:
    return lambda _: Glm45ToolCallParser(schemas)


GLM_CASES = [
    Case(
        "glm45_call_after_text",
        glm(),
        "我来帮你查询北京未来三天的天气。\n<tool_call>get_weather\n<arg_key>city</arg_key>\n"
        "<arg_value>北京</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>",
        "我来帮你查询北京未来三天的天气。",
        [call(0, "get_weather", city="北京", days=3)],
    ),
    Case(
        "glm45_several_calls_indented",
        glm(),
        "<tool_call>get_weather\n    <arg_key>city</arg_key>\n    <arg_value>Dallas</arg_value>\n"
        "    <arg_key>unit</arg_key>\n    <arg_value>fahrenheit</arg_value>\n    </tool_call>\n"
        "    <tool_call>get_weather\n    <arg_key>city</arg_key>\n    <arg_value>Orlando 🍊</arg_value>\n"
        "    </tool_call>",
        "",
        [call(0, "get_weather", city="Dallas", unit="fahrenheit"), call(1, "get_weather", city="Orlando 🍊")],
    ),
    Case(
        "glm45_types_from_schema",
        glm(),
        "<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>123</arg_value>\n"
        "<arg_key>zip</arg_key>\n<arg_value>010</arg_value>\n"
        "<arg_key>limit</arg_key>\n<arg_value>5</arg_value>\n"
        '<arg_key>filters</arg_key>\n<arg_value>{"lang": "zh", "safe": true}</arg_value>\n'
        '<arg_key>tags</arg_key>\n<arg_value>["天气", "☀️"]</arg_value>\n'
        "<arg_key>exact</arg_key>\n<arg_value>false</arg_value>\n"
        "<arg_key>score</arg_key>\n<arg_value>0.5</arg_value>\n</tool_call>",
        "",
        [
            call(
                0,
                "search",
                query="123",
                zip="010",
                limit=5,
                filters={"lang": "zh", "safe": True},
                tags=["天气", "☀️"],
                exact=False,
                score=0.5,
            )
        ],
    ),
    Case(
        "glm45_string_value_kept_verbatim",
        glm(),
        "<tool_call>run_python\n<arg_key>code</arg_key>\n<arg_value>def f(x):\n    return x < 2\n"
        "</arg_value>\n</tool_call>",
        "",
        [call(0, "run_python", code="def f(x):\n    return x < 2\n")],
    ),
    Case(
        "glm45_without_schema_decodes_json_when_possible",
        glm(None),
        "<tool_call>anything\n<arg_key>n</arg_key>\n<arg_value>3</arg_value>\n"
        "<arg_key>s</arg_key>\n<arg_value>北京</arg_value>\n"
        "<arg_key>flag</arg_key>\n<arg_value>true</arg_value>\n</tool_call>",
        "",
        [call(0, "anything", n=3, s="北京", flag=True)],
    ),
    Case(
        "glm45_no_arguments",
        glm(),
        "<tool_call>get_current_time\n</tool_call>",
        "",
        [call(0, "get_current_time")],
    ),
    Case(
        "glm45_malformed_pair_is_an_error",
        glm(),
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Seattle</arg_value>\n"
        "<arg_key>incomplete_arg\n<arg_value>value</arg_value>\n</tool_call>\n"
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>西雅图</arg_value>\n</tool_call>",
        "",
        [call(0, "get_weather", city="西雅图")],
        errors=1,
    ),
    Case(
        "glm45_missing_name_is_an_error",
        glm(),
        "<tool_call>\n<arg_key>city</arg_key>\n<arg_value>x</arg_value>\n</tool_call>",
        "",
        errors=1,
    ),
    Case(
        "glm45_unterminated_complete_call",
        glm(),
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>北京</arg_value>\n",
        "",
        [call(0, "get_weather", city="北京")],
    ),
    Case(
        "glm45_cut_off_inside_value",
        glm(),
        "好的。\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>北",
        "好的。",
        errors=1,
    ),
]

JSON_CASES = [
    Case(
        "json_object",
        JsonToolCallParser,
        '{"name": "get_weather", "arguments": {"city": "北京"}}',
        "",
        [call(0, "get_weather", city="北京")],
    ),
    Case(
        "json_fenced_tool_parameters",
        JsonToolCallParser,
        '\n```json\n{"tool": "search", "parameters": {"query": "天气 🌧️"}}\n```\n',
        "",
        [call(0, "search", query="天气 🌧️")],
    ),
    Case(
        "json_list_of_calls_unlabelled_fence",
        JsonToolCallParser,
        '```\n[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": [1, 2]}}]\n```',
        "",
        [call(0, "a"), call(1, "b", x=[1, 2])],
    ),
    Case(
        "json_openai_shape",
        JsonToolCallParser,
        '{"type": "function", "function": {"name": "f", "arguments": "{\\"k\\": \\"v\\"}"}}',
        "",
        [call(0, "f", k="v")],
    ),
    Case(
        "json_plain_answer",
        JsonToolCallParser,
        "北京的年平均气温约为 12°C 😊。{not json}\n",
        "北京的年平均气温约为 12°C 😊。{not json}",
    ),
    Case("json_answer_that_is_json", JsonToolCallParser, '{"answer": 42}', '{"answer": 42}'),
    Case(
        "json_python_fence_is_content",
        JsonToolCallParser,
        "```python\nprint('你好')\n```",
        "```python\nprint('你好')\n```",
    ),
    Case(
        "json_malformed_call_is_an_error",
        JsonToolCallParser,
        '{"name": "get_weather", "arguments": {"city": "北京"}',
        "",
        errors=1,
    ),
    Case("json_brace_text_is_content", JsonToolCallParser, "{x} is a set.", "{x} is a set."),
]

CASES = HERMES_CASES + GLM_CASES + JSON_CASES


def collect(factory: ToolCallParserFactory, chunks: Sequence[str]) -> ParseResult:
    parser = factory(None)
    total = ParseResult()
    for chunk in chunks:
        total.extend(parser.feed(chunk))
    total.extend(parser.finish())
    return total


def check(case: Case, result: ParseResult) -> None:
    assert result.content == case.content
    assert result.calls == case.calls
    assert len(result.errors) == case.errors, result.errors


def cut(text: str, points: Iterable[int]) -> list[str]:
    bounds = sorted({0, len(text), *(p % (len(text) + 1) for p in points)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)] or [""]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_one_piece(case: Case) -> None:
    check(case, collect(case.factory, [case.text]))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_one_char_chunks(case: Case) -> None:
    check(case, collect(case.factory, list(case.text)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_single_cut(case: Case) -> None:
    for i in range(len(case.text) + 1):
        check(case, collect(case.factory, cut(case.text, [i])))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_seeded_random_chunkings(case: Case) -> None:
    rng = random.Random(f"tools-{case.name}")
    for _ in range(100):
        points = [rng.randrange(len(case.text) + 1) for _ in range(rng.randrange(1, 15))]
        check(case, collect(case.factory, cut(case.text, points)))


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(case=st.sampled_from(CASES), points=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_any_chunking_equals_one_piece(case: Case, points: list[int]) -> None:
    check(case, collect(case.factory, cut(case.text, points)))


_TAGGY = st.lists(
    st.sampled_from(
        [
            *'<>/{}"_ \n北😊',
            "<tool_call>",
            "</tool_call>",
            "<tool_",
            '{"name": "f"}',
            "<arg_key>",
            "```json\n",
        ]
    )
).map("".join)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    factory=st.sampled_from([HermesToolCallParser, Glm45ToolCallParser, JsonToolCallParser]),
    text=_TAGGY,
    points=st.lists(st.integers(min_value=0, max_value=300), max_size=20),
)
def test_arbitrary_text_is_chunking_invariant(
    factory: ToolCallParserFactory, text: str, points: list[int]
) -> None:
    assert collect(factory, cut(text, points)) == collect(factory, [text])


def test_hermes_streams_content_before_the_call_completes() -> None:
    parser = HermesToolCallParser()
    assert parser.feed("Sure, checking.\n<tool_") == ParseResult(content="Sure, checking.")
    assert parser.feed('call>\n{"name": "get_weather", ') == ParseResult()
    done = parser.feed('"arguments": {"city": "NYC"}}\n</tool_call>')
    assert done.calls == [call(0, "get_weather", city="NYC")]
    assert parser.finish() == ParseResult()


def test_json_parser_streams_plain_text_at_once() -> None:
    parser = JsonToolCallParser()
    assert parser.feed("\n ") == ParseResult()
    assert parser.feed("The answer") == ParseResult(content="The answer")
    assert parser.feed(" is 4.") == ParseResult(content=" is 4.")
    assert parser.finish() == ParseResult()


def test_json_parser_holds_a_possible_call() -> None:
    parser = JsonToolCallParser()
    assert parser.feed('{"name": "f", ') == ParseResult()
    assert parser.feed('"arguments": {}}') == ParseResult()
    assert parser.finish().calls == [call(0, "f")]


def test_error_messages_carry_the_raw_block() -> None:
    result = parse_text(HermesToolCallParser(), '<tool_call>{"name": oops}</tool_call>')
    assert result.content == ""
    assert "oops" in result.errors[0]


def test_parsed_tool_call_is_frozen() -> None:
    with pytest.raises(AttributeError):
        call(0, "f").name = "g"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("qwen3", HermesToolCallParser),
        ("Qwen/Qwen3-0.6B", HermesToolCallParser),
        ("hermes", HermesToolCallParser),
        ("glm4_moe", Glm45ToolCallParser),
        ("zai-org/GLM-4.5-Air", Glm45ToolCallParser),
        ("{{ '<tool_call>' + tc.name }}<arg_key>{{ k }}</arg_key>", Glm45ToolCallParser),
        ('{{- \'<tool_call>\\n{"name": "\' }}', HermesToolCallParser),
        ("json", JsonToolCallParser),
        ("llama", HermesToolCallParser),
        ("", HermesToolCallParser),
    ],
)
def test_parser_for_model(key: str, expected: type) -> None:
    assert parser_for_model(key) is expected


def test_factory_passes_schemas() -> None:
    parser: ToolCallParser = parser_for_model("glm")(WEATHER_SCHEMAS)
    text = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>42</arg_value>\n</tool_call>"
    assert parse_text(parser, text).calls == [call(0, "get_weather", city="42")]


@dataclass(frozen=True)
class Turn:
    """A whole model turn: thinking parser first, its content into the tool parser."""

    name: str
    factory: ToolCallParserFactory
    text: str
    reasoning: str
    content: str
    calls: list[ParsedToolCall]
    starts_in_reasoning: bool = False


TURNS = [
    Turn(
        "qwen3_think_then_two_calls",
        HermesToolCallParser,
        "<think>\n用户想比较北京和上海的天气，我需要调用两次 get_weather。\n</think>\n\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "北京"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "上海"}}\n</tool_call>',
        "用户想比较北京和上海的天气，我需要调用两次 get_weather。",
        "",
        [call(0, "get_weather", city="北京"), call(1, "get_weather", city="上海")],
    ),
    Turn(
        "qwen3_thinking_off_call",
        HermesToolCallParser,
        '<think>\n\n</think>\n\nLet me look that up. 🔎\n<tool_call>\n{"name": "search", "arguments": '
        '{"query": "Beijing mean annual temperature"}}\n</tool_call>',
        "",
        "Let me look that up. 🔎",
        [call(0, "search", query="Beijing mean annual temperature")],
    ),
    Turn(
        "glm45_think_then_call",
        glm(),
        "<think>用户问天气，调用 get_weather，天数为 2。</think>\n我来帮你查询。\n"
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>杭州</arg_value>\n"
        "<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>",
        "用户问天气，调用 get_weather，天数为 2。",
        "我来帮你查询。",
        [call(0, "get_weather", city="杭州", days=2)],
    ),
    Turn(
        "glm45_nothink_call",
        glm(),
        "<think></think>\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>成都 🐼</arg_value>\n"
        "</tool_call>",
        "",
        "",
        [call(0, "get_weather", city="成都 🐼")],
    ),
    Turn(
        "deepseek_r1_prefilled_think_then_answer",
        HermesToolCallParser,
        "Hmm, 17 × 3 = 51.\n</think>\n\n**51** ✅",
        "Hmm, 17 × 3 = 51.",
        "**51** ✅",
        [],
        starts_in_reasoning=True,
    ),
]


def run_turn(turn: Turn, chunks: Sequence[str]) -> tuple[str, ParseResult]:
    thinking = ThinkingStreamParser(starts_in_reasoning=turn.starts_in_reasoning)
    tools = turn.factory(None)
    reasoning = ""
    result = ParseResult()
    for chunk in [*chunks, None]:
        pieces = thinking.feed(chunk) if chunk is not None else thinking.finish()
        for kind, text in pieces:
            if kind == "reasoning":
                reasoning += text
            else:
                result.extend(tools.feed(text))
    result.extend(tools.finish())
    return reasoning, result


@pytest.mark.parametrize("turn", TURNS, ids=lambda t: t.name)
def test_full_turn_in_random_chunkings(turn: Turn) -> None:
    rng = random.Random(f"turn-{turn.name}")
    chunkings = [[turn.text], list(turn.text)]
    chunkings += [cut(turn.text, [rng.randrange(len(turn.text) + 1) for _ in range(8)]) for _ in range(100)]
    for chunks in chunkings:
        reasoning, result = run_turn(turn, chunks)
        assert reasoning == turn.reasoning
        assert result == ParseResult(content=turn.content, calls=turn.calls)


@pytest.mark.parametrize(
    ("factory", "named_rest", "any_rest"),
    [
        (
            HermesToolCallParser,
            '{"city": "Paris"}}\n</tool_call>',
            'get_weather", "arguments": {"city": "Paris"}}</tool_call>',
        ),
        (
            Glm45ToolCallParser,
            "<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>",
            "get_weather\n<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>",
        ),
        (JsonToolCallParser, '{"city": "Paris"}}', 'get_weather", "arguments": {"city": "Paris"}}'),
    ],
)
def test_a_forced_call_opening_and_the_models_rest_parse_as_one_call(
    factory: ToolCallParserFactory, named_rest: str, any_rest: str
) -> None:
    for name, rest in (("get_weather", named_rest), (None, any_rest)):
        parser = factory(WEATHER_SCHEMAS)
        opened = parser.feed(call_opening(parser, name))
        result = parse_text(parser, rest)
        assert opened.content == "" and result.content == ""
        assert [(c.name, c.arguments) for c in result.calls] == [("get_weather", {"city": "Paris"})]
