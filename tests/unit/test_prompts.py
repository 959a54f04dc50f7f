"""The task classifier and the prompt engine's choice and rendering of templates."""

from __future__ import annotations

import pytest

from autoglm_core.backends.base import ModelInfo
from autoglm_core.errors import InvalidArgument
from autoglm_core.prompts import PromptEngine, classify
from autoglm_core.prompts.profiles import GENERIC, SMOLLM2, PromptProfile, profile_for, thinking_mode


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
    engine = PromptEngine(default="auto")
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


def test_profile_default_keeps_the_models_own_prompt_unless_a_task_helps_the_family() -> None:
    engine = PromptEngine()  # the default: the model family's profile decides
    assert engine.choose("", "What is the capital of France?", SMOLLM2) == ""
    assert engine.choose("", "What is the capital of France?", GENERIC) == ""
    helped = PromptProfile("family", tasks=frozenset({"qa"}))
    assert engine.choose("", "What is the capital of France?", helped) == "qa"
    assert engine.choose("", "hello there", helped) == ""  # chat does not help this family
    # A caller's system message wins over the profile's templates.
    assert engine.choose("", "What is 2+2?", helped, caller_system=True) == ""
    # Named choices and auto still apply whatever the profile.
    assert engine.choose("auto", "What is 2+2?", SMOLLM2) == "qa"
    assert engine.choose("code", "What is 2+2?", SMOLLM2) == "code"
    assert engine.choose("profile", "What is 2+2?", helped) == "qa"


def test_profiles_by_model_family_and_honest_thinking() -> None:
    def info(name: str, thinking: bool = False) -> ModelInfo:
        return ModelInfo(name, "1", "transformers", f"/models/{name}", 2048, (0,), supports_thinking=thinking)

    assert profile_for(info("smollm2-135m-instruct")) is SMOLLM2
    assert profile_for(info("Qwen3-0.6B", True)).family == "qwen3"
    assert profile_for(info("glm-4.5-air", True)).family == "glm4"
    assert profile_for(info("mystery-7b")) is GENERIC
    assert thinking_mode(False, info("Qwen3-0.6B", True), GENERIC) == "off"
    assert thinking_mode(True, info("Qwen3-0.6B", True), GENERIC) == "native"
    assert thinking_mode(True, info("smollm2-135m-instruct"), SMOLLM2) == "unsupported"
    prompted = PromptProfile("follows", thinking_without_native="prompted")
    assert thinking_mode(True, info("follows-1b"), prompted) == "prompted"


def test_rendered_system_message_keeps_the_callers_own_and_answers_in_kind() -> None:
    engine = PromptEngine()
    text = engine.render("qa", user_text="北京的年平均气温是多少？", system="Be brief.")
    assert text.startswith("You are AutoGLM") and "question" in text
    assert "请用中文回答" in text and text.endswith("Be brief.")
    english = engine.render("summarize", user_text="Summarize this")
    assert "中文" not in english and "Summarize" in english
    # A translation's target language is the one asked for, not the one the request is written in.
    assert "中文" not in engine.render("translate", user_text="翻译成英文：你好")
