"""The library's view of a model's vocabulary (an llguidance LLTokenizer), built once per tokenizer.

Building one reads the whole vocabulary (about a second for a 49k-token BPE), so it is cached for
as long as the tokenizer object lives, and built off the event loop by the compiler.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import llguidance

from autoglm_core.backends.base import ChatTokenizer
from autoglm_core.errors import FailedPrecondition

_cache: weakref.WeakKeyDictionary[Any, llguidance.LLTokenizer] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def vocabulary_for(tokenizer: ChatTokenizer, eos_ids: Sequence[int]) -> llguidance.LLTokenizer:
    """The LLTokenizer of a backend's tokenizer: a Hugging Face fast tokenizer (`.hf`) or the mock's
    byte-level one; `eos_ids` are the ids that end generation (the model's, not only the tokenizer's).
    FailedPrecondition for a tokenizer the library cannot read."""
    with _lock:
        found = _cache.get(tokenizer)
        if found is None:
            found = _build(tokenizer, list(eos_ids))
            _cache[tokenizer] = found
        return found


def _build(tokenizer: ChatTokenizer, eos_ids: list[int]) -> llguidance.LLTokenizer:
    hf = getattr(tokenizer, "hf", None)
    if hf is not None:
        try:
            # Imports transformers: only for a Hugging Face tokenizer (a mock server has none).
            from llguidance.hf import from_tokenizer

            return from_tokenizer(hf, eos_token=eos_ids or None)
        except ValueError as error:  # a slow (Python-only) tokenizer
            raise FailedPrecondition(f"structured output needs a fast tokenizer: {error}") from error
    from autoglm_core.backends.mock import ByteTokenizer

    if isinstance(tokenizer, ByteTokenizer):
        return llguidance.LLTokenizer(llguidance.TokenizerWrapper(_ByteVocabulary()))
    raise FailedPrecondition(f"structured output does not support the tokenizer {type(tokenizer).__name__}")


class _ByteVocabulary:
    """The mock backend's vocabulary in the shape llguidance.TokenizerWrapper reads."""

    def __init__(self) -> None:
        from autoglm_core.backends.mock import BOS_ID, BYTE_OFFSET, EOS_ID, PAD_ID

        self._offset = BYTE_OFFSET
        self.eos_token_id = EOS_ID
        self.bos_token_id = BOS_ID
        self.special_token_ids = [BOS_ID, EOS_ID, PAD_ID]
        self.tokens = [b"<s>", b"</s>", b"<pad>"] + [bytes([b]) for b in range(256)]

    def __call__(self, text: bytes | str) -> list[int]:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return [b + self._offset for b in data]
