"""ThinkingStreamParser on recorded-style outputs of Qwen3, GLM-4.5 and DeepSeek-R1, in any chunking."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoglm_core.reasoning import (
    COT_SYSTEM_PROMPT,
    Piece,
    ThinkingStreamParser,
    add_cot_instruction,
    prompt_opens_reasoning,
    split_reasoning_steps,
)


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    expected: list[Piece]
    starts_in_reasoning: bool = False


CASES = [
    Case(
        "qwen3_thinking_on",
        "<think>\n好的，用户问北京的年平均气温。我记得大约是12°C左右 🌡️。\n\n"
        "让我再确认一下：北京属于温带季风气候。\n</think>\n\n"
        "北京的年平均气温约为 **12°C** 😊。\n冬季寒冷，夏季炎热。",
        [
            (
                "reasoning",
                "好的，用户问北京的年平均气温。我记得大约是12°C左右 🌡️。\n\n"
                "让我再确认一下：北京属于温带季风气候。",
            ),
            ("content", "北京的年平均气温约为 **12°C** 😊。\n冬季寒冷，夏季炎热。"),
        ],
    ),
    Case(
        "qwen3_thinking_off_empty_block",
        "<think>\n\n</think>\n\nHello! How can I help you today? 👋",
        [("content", "Hello! How can I help you today? 👋")],
    ),
    Case(
        "qwen3_thinking_prefilled_in_prompt",  # Qwen3-Thinking-2507: the template wrote "<think>\n"
        "Okay, 2 + 2 is basic arithmetic.\n</think>\n\n2 + 2 = 4.",
        [("reasoning", "Okay, 2 + 2 is basic arithmetic."), ("content", "2 + 2 = 4.")],
        starts_in_reasoning=True,
    ),
    Case(
        "qwen3_thinking_then_tool_call",
        "<think>\nThe user wants the weather in 上海; I should call get_weather.\n</think>\n\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "上海"}}\n</tool_call>',
        [
            ("reasoning", "The user wants the weather in 上海; I should call get_weather."),
            ("content", '<tool_call>\n{"name": "get_weather", "arguments": {"city": "上海"}}\n</tool_call>'),
        ],
    ),
    Case(
        "glm45_thinking",
        "<think>用户想知道天气，需要调用工具。</think>\n我来帮你查询北京的天气。",
        [("reasoning", "用户想知道天气，需要调用工具。"), ("content", "我来帮你查询北京的天气。")],
    ),
    Case(
        "glm45_nothink_empty_block",  # "/nothink" in the user turn: GLM answers with <think></think>
        "<think></think>\n你好！有什么可以帮你的吗？🙂",
        [("content", "你好！有什么可以帮你的吗？🙂")],
    ),
    Case(
        "deepseek_r1_no_opening_tag",
        "嗯，用户问的是 9.11 和 9.9 哪个大。\n比较小数部分：0.11 < 0.90。\n</think>\n\n9.9 更大。",
        [
            ("reasoning", "嗯，用户问的是 9.11 和 9.9 哪个大。\n比较小数部分：0.11 < 0.90。"),
            ("content", "9.9 更大。"),
        ],
        starts_in_reasoning=True,
    ),
    Case(
        "prefilled_but_model_repeats_opening_tag",
        "<think>\nthinking\n</think>\n\nanswer",
        [("reasoning", "thinking"), ("content", "answer")],
        starts_in_reasoning=True,
    ),
    Case("no_tags_is_content", "Just an answer, no tags. 🚀\n", [("content", "Just an answer, no tags. 🚀")]),
    Case(
        "reasoning_cut_off_by_token_limit",
        "<think>\nStill thinking about <b>tags</b> and 1 < 2",
        [("reasoning", "Still thinking about <b>tags</b> and 1 < 2")],
    ),
    Case(
        "partial_tag_at_end_is_text",
        "<think>x</think>answer </thi",
        [("reasoning", "x"), ("content", "answer </thi")],
    ),
    Case(
        "lookalike_tags_are_text",
        "<thinking> and <think-tank> and </thinker>",
        [("content", "<thinking> and <think-tank> and </thinker>")],
    ),
    Case(
        "stray_closing_tag_in_content_is_dropped",
        "reasoning the caller did not expect</think>\n\nanswer",
        [("content", "reasoning the caller did not expect\n\nanswer")],
    ),
    Case("empty_output", "", []),
    Case("whitespace_only", "\n\n  \n", []),
]


def merged(pieces: Iterable[Piece]) -> list[Piece]:
    """Concatenate adjacent pieces of the same kind: how a client renders the stream."""
    out: list[Piece] = []
    for kind, text in pieces:
        assert text, "the parser never emits empty pieces"
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text)
        else:
            out.append((kind, text))
    return out


def run(text_chunks: Sequence[str], starts_in_reasoning: bool = False) -> list[Piece]:
    parser = ThinkingStreamParser(starts_in_reasoning=starts_in_reasoning)
    pieces: list[Piece] = []
    for chunk in text_chunks:
        pieces.extend(parser.feed(chunk))
    pieces.extend(parser.finish())
    return merged(pieces)


def cut(text: str, points: Iterable[int]) -> list[str]:
    bounds = sorted({0, len(text), *(p % (len(text) + 1) for p in points)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)] or [""]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_one_piece(case: Case) -> None:
    assert run([case.text], case.starts_in_reasoning) == case.expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_one_char_chunks(case: Case) -> None:
    assert run(list(case.text), case.starts_in_reasoning) == case.expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_single_cut(case: Case) -> None:
    for i in range(len(case.text) + 1):
        assert run(cut(case.text, [i]), case.starts_in_reasoning) == case.expected, i


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_seeded_random_chunkings(case: Case) -> None:
    rng = random.Random(f"think-{case.name}")
    for _ in range(200):
        points = [rng.randrange(len(case.text) + 1) for _ in range(rng.randrange(1, 12))]
        assert run(cut(case.text, points), case.starts_in_reasoning) == case.expected, points


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(case=st.sampled_from(CASES), points=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_any_chunking_equals_one_piece(case: Case, points: list[int]) -> None:
    assert run(cut(case.text, points), case.starts_in_reasoning) == case.expected


# Texts dense in tags, tag fragments, whitespace and multi-byte characters.
_TAGGY = st.lists(st.sampled_from([*"<>/thinkx \n北😊", "<think>", "</think>", "<thi", "nk>"])).map("".join)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    text=_TAGGY,
    points=st.lists(st.integers(min_value=0, max_value=200), max_size=20),
    prefilled=st.booleans(),
)
def test_arbitrary_text_is_chunking_invariant(text: str, points: list[int], prefilled: bool) -> None:
    assert run(cut(text, points), prefilled) == run([text], prefilled)


def test_streams_before_the_end() -> None:
    """Text is released as soon as it cannot be a tag: only the partial tag and edge spaces wait."""
    parser = ThinkingStreamParser()
    assert parser.feed("<think>\nstep one") == [("reasoning", "step one")]
    assert parser.in_reasoning
    assert parser.feed(" and two\n</th") == [("reasoning", " and two")]
    assert parser.feed("ink>\n\nThe answer") == [("content", "The answer")]
    assert not parser.in_reasoning
    assert parser.feed(" is 4.\n") == [("content", " is 4.")]
    assert parser.finish() == []


def test_one_feed_can_return_both_kinds_in_order() -> None:
    parser = ThinkingStreamParser()
    assert parser.feed("<think>a</think>b") == [("reasoning", "a"), ("content", "b")]


def test_custom_tags() -> None:
    parser = ThinkingStreamParser(start_tag="<|begin_of_thought|>", end_tag="<|end_of_thought|>")
    pieces = parser.feed("<|begin_of_thought|>why<|end_of_thought|>because") + parser.finish()
    assert pieces == [("reasoning", "why"), ("content", "because")]


def test_feed_after_finish_is_an_error() -> None:
    parser = ThinkingStreamParser()
    parser.finish()
    with pytest.raises(RuntimeError):
        parser.feed("x")


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("<|im_start|>assistant\n<think>\n", True),
        ("<|im_start|>assistant\n<think>\n\n</think>\n\n", False),
        ("<|im_start|>assistant\n", False),
        ("<|assistant|>\n<think></think>", False),
        ("<｜Assistant｜><think>\n", True),
    ],
)
def test_prompt_opens_reasoning(prompt: str, expected: bool) -> None:
    assert prompt_opens_reasoning(prompt) is expected


@pytest.mark.parametrize(
    ("reasoning", "steps"),
    [
        (
            "1. Read the question.\n2. Recall the data.\n3. Answer.",
            ["Read the question.", "Recall the data.", "Answer."],
        ),
        ("Step 1: find x\nStep 2: find y", ["find x", "find y"]),
        ("步骤1：确定城市\n步骤2：查询气温", ["确定城市", "查询气温"]),
        ("第一步，确定城市。\n第二步，查询气温。", ["确定城市。", "查询气温。"]),
        ("1、北京\n2、上海", ["北京", "上海"]),
        ("- apples\n- pears 🍐", ["apples", "pears 🍐"]),
        (
            "Let me think.\n1. First\n   more about first\n\n2) Second",
            ["Let me think.", "First\nmore about first", "Second"],
        ),
        (
            "First paragraph\nstill first.\n\nSecond paragraph.\n\n\n",
            ["First paragraph\nstill first.", "Second paragraph."],
        ),
        ("Line one.\nLine two.", ["Line one.", "Line two."]),
        ("3.14 is pi and 2.71 is e.", ["3.14 is pi and 2.71 is e."]),
        ("", []),
        ("  \n\n ", []),
    ],
)
def test_split_reasoning_steps(reasoning: str, steps: list[str]) -> None:
    assert split_reasoning_steps(reasoning) == steps


def test_add_cot_instruction_merges_into_system_message() -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "北京的年平均气温是多少？"},
    ]
    result = add_cot_instruction(messages)
    assert result[0] == {"role": "system", "content": "You are helpful.\n\n" + COT_SYSTEM_PROMPT}
    assert result[1] == messages[1]
    assert messages[0]["content"] == "You are helpful."  # input untouched
    assert add_cot_instruction(result) == result  # idempotent


def test_add_cot_instruction_prepends_system_message() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert add_cot_instruction(messages) == [{"role": "system", "content": COT_SYSTEM_PROMPT}, *messages]
    assert add_cot_instruction([]) == [{"role": "system", "content": COT_SYSTEM_PROMPT}]


def test_add_cot_instruction_with_content_parts() -> None:
    messages = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]}]
    result = add_cot_instruction(messages)
    assert result[0]["content"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": COT_SYSTEM_PROMPT},
    ]
    assert messages[0]["content"] == [{"type": "text", "text": "Be brief."}]


def test_cot_prompt_output_parses_into_steps() -> None:
    """What a prompted model is asked to write comes apart into reasoning steps and an answer."""
    reply = "<think>\n1. 北京位于华北平原。\n2. 年平均气温约 12°C。\n</think>\n北京的年平均气温约为 12°C。"
    pieces = run([reply])
    assert pieces == [
        ("reasoning", "1. 北京位于华北平原。\n2. 年平均气温约 12°C。"),
        ("content", "北京的年平均气温约为 12°C。"),
    ]
    assert split_reasoning_steps(pieces[0][1]) == ["北京位于华北平原。", "年平均气温约 12°C。"]
