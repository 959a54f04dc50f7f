"""The per-request constraint the sampler calls for every token (runtime's TokenConstraint protocol).

Thinking and structure must not fight: a request whose prompt opens a reasoning block ("open") is
let through untouched until the model has written the closing tag, and only then constrained, so the
grammar never masks `</think>` and the document never lands in the reasoning. The thinking budget
stays the engine's: it cuts reasoning as before, and the next turn's constraint starts at once.
"""

from __future__ import annotations

from typing import Any, Literal

import llguidance
import numpy as np

# "none": constrained from the first token. "open": the prompt opened a reasoning block; constrained
# after its closing tag. "optional": the grammar itself allows a leading <think>...</think> block.
ReasoningMode = Literal["none", "open", "optional"]

REASONING_END = b"</think>"
_WHITESPACE = b" \t\r\n"


class GrammarConstraint:
    """Masks the logits of one request to what its grammar allows next; not thread-safe (the step
    loop calls one request's constraint from one thread)."""

    def __init__(
        self, matcher: llguidance.LLMatcher, vocabulary: llguidance.LLTokenizer, *, open_reasoning: bool
    ):
        self._matcher = matcher
        self._vocabulary = vocabulary
        self._in_reasoning = open_reasoning
        # The tail of the reasoning so far, long enough to see a closing tag split across tokens.
        self._reasoning_tail = b""
        # Before the document's first byte: whitespace is let go (the content parser drops it too).
        self._at_start = True
        self.tokens_accepted = 0

    @property
    def active(self) -> bool:
        """True once the grammar applies (reasoning, if any, is over)."""
        return not self._in_reasoning

    def mask_logits(self, logits: Any) -> None:
        if self._in_reasoning:
            return
        mask = self.allowed_mask()
        size = mask.size
        if isinstance(logits, np.ndarray):  # the fake runner's (the mock server has no torch)
            logits[:size][~mask] = -np.inf
            logits[size:] = -np.inf
            return
        import torch  # only a torch runner hands tensors here

        allowed = torch.from_numpy(mask)
        logits[:size].masked_fill_(~allowed.to(logits.device), float("-inf"))
        logits[size:] = float("-inf")

    def allowed_mask(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """A bool array over the vocabulary: True where the token may come next."""
        bits = np.frombuffer(self._matcher.compute_bitmask(), dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little")[: self._vocabulary.vocab_size].view(np.bool_)

    def accept(self, token_id: int) -> None:
        self.tokens_accepted += 1
        if self._in_reasoning:
            self._see_reasoning(self._vocabulary.decode_bytes([token_id]))
        elif self._at_start:
            self._start_document(self._vocabulary.decode_bytes([token_id]), token_id)
        else:
            self._matcher.consume_token(token_id)

    def accept_bytes(self, data: bytes) -> None:
        """Advances past text that arrived inside another token (e.g. after a tag)."""
        if self._at_start:
            self._start_document(data, None)
        else:
            self._matcher.consume_tokens(self._vocabulary.tokenize_bytes(data))

    def is_finished(self) -> bool:
        return not self._in_reasoning and self._matcher.is_stopped()

    def is_complete(self) -> bool:
        """True when the output so far is a whole document of the format."""
        return not self._in_reasoning and not self._matcher.is_error() and self._matcher.is_accepting()

    @property
    def error(self) -> str:
        """Why the matcher failed (a token it did not allow was accepted), else empty."""
        return self._matcher.get_error() if self._matcher.is_error() else ""

    def _see_reasoning(self, data: bytes) -> None:
        text = self._reasoning_tail + data
        end = text.find(REASONING_END)
        if end < 0:
            self._reasoning_tail = text[-(len(REASONING_END) - 1) :]
            return
        self._in_reasoning = False
        rest = text[end + len(REASONING_END) :]
        if rest:  # the same token went on past the tag
            self._start_document(rest, None)

    def _start_document(self, data: bytes, token_id: int | None) -> None:
        """Feeds the first bytes of the document, without the whitespace before them. The mask never
        offers that whitespace; it is let go for a turn replayed as the model wrote it."""
        text = data.lstrip(_WHITESPACE)
        if not text:
            return
        self._at_start = False
        if text == data and token_id is not None:
            self._matcher.consume_token(token_id)
        else:
            self._matcher.consume_tokens(self._vocabulary.tokenize_bytes(text))
