"""The ChatTokenizer over a Hugging Face tokenizer and the model's own chat template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autoglm_core.backends.base import ChatMessageDict
from autoglm_core.errors import FailedPrecondition


class HFChatTokenizer:
    """ChatTokenizer over a Hugging Face tokenizer and its own chat template."""

    def __init__(self, tokenizer: Any) -> None:
        self.hf = tokenizer

    def encode(self, text: str) -> list[int]:
        return list(self.hf.encode(text, add_special_tokens=False))

    def decode(self, token_ids: Sequence[int]) -> str:
        return str(self.hf.decode(list(token_ids), skip_special_tokens=True))

    def token_texts(self, token_ids: Sequence[int]) -> list[str]:
        return [str(self.hf.decode([t], skip_special_tokens=False)) for t in token_ids]

    def render_chat(
        self,
        messages: Sequence[ChatMessageDict],
        *,
        enable_thinking: bool,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> str:
        if not self.hf.chat_template:
            raise FailedPrecondition("this model's tokenizer has no chat template")
        # Templates that know enable_thinking/tools use them; the others ignore the extra variables.
        text = self.hf.apply_chat_template(
            list(messages),
            tools=list(tools) if tools else None,
            tokenize=False,
            add_generation_prompt=True,
            enable_thinking=enable_thinking,
        )
        return str(text)

    @property
    def chat_template_text(self) -> str:
        template = self.hf.chat_template
        if isinstance(template, dict):
            return "\n".join(str(t) for t in template.values())
        return str(template or "")
