"""The task classifier and the prompt engine's choice and rendering of templates."""

from __future__ import annotations

import pytest

from autoglm_core.errors import InvalidArgument
from autoglm_core.prompts import PromptEngine, classify


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Translate 'how are you?' into French", "translate"),
        ("French: 'bonjour' in English:", "translate"),
        ("把这句话翻译成英文：今天天气很好", "translate"),
        ("你好用英文怎么说", "translate"),
        ("Summarize this article in three sentences: ...", "summarize"),
        ("tl;dr of the meeting notes below", "summarize"),
        ("请总结一下这篇文章的要点", "summarize"),
        ("Why does my Python function raise a KeyError?", "code"),
        ("```\nprint(1)\n```\nwhat does this print", "code"),
        ("用Python写一个函数计算斐波那契数列", "code"),
        ("What is the capital of France?", "qa"),
        ("how tall is Mount Everest", "qa"),
        ("北京的年平均气温是多少？", "qa"),
        ("这是真的吗", "qa"),
        ("hello there, nice to meet you", "chat"),
        ("我今天很开心", "chat"),
    ],
)
def test_classifier(text: str, task: str) -> None:
    assert classify(text) == task


def test_choice_auto_default_override_and_unknown() -> None:
    engine = PromptEngine()
    assert engine.names == ["chat", "code", "qa", "summarize", "translate"]
    assert engine.choose("", "What is 2+2?") == "qa"
    assert engine.choose("code", "What is 2+2?") == "code"
    assert engine.choose("none", "What is 2+2?") == ""
    with pytest.raises(InvalidArgument) as caught:
        engine.choose("poem", "x")
    assert caught.value.violations[0].field == "prompt_template"
    assert PromptEngine(default="chat").choose("", "What is 2+2?") == "chat"
    assert PromptEngine(default="none").choose("", "What is 2+2?") == ""
    with pytest.raises(ValueError):
        PromptEngine(default="poem")


def test_rendered_system_message_keeps_the_callers_own_and_answers_in_kind() -> None:
    engine = PromptEngine()
    text = engine.render("qa", user_text="北京的年平均气温是多少？", system="Be brief.")
    assert text.startswith("You are AutoGLM") and "question" in text
    assert "请用中文回答" in text and text.endswith("Be brief.")
    english = engine.render("summarize", user_text="Summarize this")
    assert "中文" not in english and "Summarize" in english
    # A translation's target language is the one asked for, not the one the request is written in.
    assert "中文" not in engine.render("translate", user_text="翻译成英文：你好")
