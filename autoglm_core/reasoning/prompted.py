"""Prompted chain-of-thought for models without a native thinking mode, used only for families
whose profile says they follow it (autoglm_core/prompts/profiles.py; measured by the quality eval).

The instruction asks for the same `<think>...</think>` layout that Qwen3 and GLM produce natively, so
one parser (`ThinkingStreamParser`, starting outside reasoning) and one step splitter
(`split_reasoning_steps`) serve both kinds of model.
"""

from __future__ import annotations

from typing import Any

# No example steps: a small model copies an example back as its answer instead of following it.
COT_SYSTEM_PROMPT = (
    "Before answering, think the problem through step by step. Write your reasoning inside "
    "<think> and </think> tags as numbered steps, one step per line. "
    "After the closing </think> tag, write only the final answer, in the language of the user's "
    "question, without repeating the steps."
)


def add_cot_instruction(
    messages: list[dict[str, Any]], instruction: str = COT_SYSTEM_PROMPT
) -> list[dict[str, Any]]:
    """Return a copy of `messages` whose system message carries the chain-of-thought instruction.

    The instruction is appended to the first message when it is a system message (text content, or a
    list of content parts), otherwise a new system message is prepended. The input is not modified.
    Calling it twice does not add the instruction twice.
    """
    copied = [dict(message) for message in messages]
    if copied and copied[0].get("role") == "system":
        copied[0]["content"] = _append_instruction(copied[0].get("content"), instruction)
    else:
        copied.insert(0, {"role": "system", "content": instruction})
    return copied


def _append_instruction(content: Any, instruction: str) -> Any:
    if isinstance(content, list):  # multimodal content parts: add a text part
        if any(isinstance(part, dict) and part.get("text") == instruction for part in content):
            return list(content)
        return [*content, {"type": "text", "text": instruction}]
    text = "" if content is None else str(content)
    if instruction in text:
        return text
    return f"{text.rstrip()}\n\n{instruction}" if text.strip() else instruction
