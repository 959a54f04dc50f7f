"""Streaming detokenization that never emits a broken character.

Decoding one token at a time breaks multi-byte characters (a Chinese character or an emoji can span
several byte-level tokens) and loses the spaces some tokenizers attach to the next token. Like TGI
and vLLM, we decode a small window of recent tokens twice and emit only the new, complete text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

REPLACEMENT_CHAR = "\ufffd"


class IncrementalDetokenizer:
    """Feed token ids as they arrive; get back the text they completed."""

    def __init__(self, decode: Callable[[Sequence[int]], str]) -> None:
        self._decode = decode
        self._ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0

    def feed(self, token_ids: Sequence[int]) -> str:
        self._ids.extend(token_ids)
        prefix_text = self._decode(self._ids[self._prefix_offset : self._read_offset])
        full_text = self._decode(self._ids[self._prefix_offset :])
        if len(full_text) <= len(prefix_text) or full_text.endswith(REPLACEMENT_CHAR):
            # An incomplete character: wait for the bytes that finish it.
            return ""
        self._prefix_offset = self._read_offset
        self._read_offset = len(self._ids)
        return full_text[len(prefix_text) :]

    def flush(self) -> str:
        """Whatever is still held back at the end of generation (possibly a broken tail)."""
        prefix_text = self._decode(self._ids[self._prefix_offset : self._read_offset])
        full_text = self._decode(self._ids[self._prefix_offset :])
        self._prefix_offset = self._read_offset = len(self._ids)
        tail = full_text[len(prefix_text) :]
        return tail.rstrip(REPLACEMENT_CHAR)
