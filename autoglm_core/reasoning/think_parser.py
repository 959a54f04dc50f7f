"""Split a model's streamed text into reasoning and content at `<think>` / `</think>` tags.

Formats seen in the wild (see DESIGN.md, "Output formats to support"):

- Qwen3, thinking on: the model writes `<think>\\n...\\n</think>\\n\\nanswer`.
- Qwen3-Thinking / DeepSeek-R1 templates pre-fill `<think>` in the prompt, so the output has only the
  closing tag: `...reasoning...</think>answer`. Pass `starts_in_reasoning=True` for those
  (`prompt_opens_reasoning(prompt)` tells from the rendered prompt).
- Thinking off: Qwen3 pre-fills or emits an empty `<think>\\n\\n</think>`, GLM-4.5 `<think></think>`;
  an empty reasoning section produces no output at all.

Tags may be split across deltas at any character: only a suffix of the buffer that could still grow
into a tag is held back. Whitespace at the edges of each section is dropped (leading whitespace at
once, trailing whitespace held until more non-blank text arrives), so the newlines around the tags
never reach the user and an empty `<think>\\n\\n</think>` yields nothing. The output for a text is the
same however it is cut into deltas (the tests check this with random chunkings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

PieceKind = Literal["reasoning", "content"]
Piece = tuple[PieceKind, str]

REASONING: PieceKind = "reasoning"
CONTENT: PieceKind = "content"


def partial_tag_len(text: str, tags: Sequence[str]) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of one of `tags`.

    That suffix must be held back: the next delta decides whether it is a tag or plain text.
    """
    best = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), best, -1):
            if text.endswith(tag[:size]):
                best = size
                break
    return best


class EdgeTrimmer:
    """Streams one section of text without the whitespace at its two edges.

    Leading whitespace is dropped as it arrives; trailing whitespace is held until non-blank text
    follows it (then it was inner whitespace and is emitted) or the section ends (then it is dropped).
    """

    def __init__(self) -> None:
        self._at_start = True
        self._pending = ""

    def push(self, text: str) -> str:
        """Add text to the section; return what can be emitted now."""
        if self._at_start:
            text = text.lstrip()
            if not text:
                return ""
            self._at_start = False
        text = self._pending + text
        body = text.rstrip()
        self._pending = text[len(body) :]
        return body

    def restart(self) -> None:
        """End the current section (its held trailing whitespace is dropped) and start a new one."""
        self._at_start = True
        self._pending = ""


class ThinkingStreamParser:
    """Incremental reasoning/content splitter. One instance per generation.

    `feed(delta)` returns ordered `(kind, text)` pieces, kind being "reasoning" or "content";
    `finish()` flushes what was held back. Adjacent pieces of the same kind within one call are merged.

    Either tag switches the mode wherever it appears: `<think>` starts reasoning (it is also accepted,
    and dropped, when the prompt already opened reasoning), `</think>` starts content. A stray
    `</think>` in content is dropped rather than shown: it means the template pre-filled `<think>` and
    the caller did not say so; the text before it cannot be recalled once streamed.
    """

    def __init__(
        self,
        start_tag: str = "<think>",
        end_tag: str = "</think>",
        starts_in_reasoning: bool = False,
    ) -> None:
        if not start_tag or not end_tag:
            raise ValueError("start_tag and end_tag must be non-empty")
        self._start_tag = start_tag
        self._end_tag = end_tag
        self._tags = (start_tag, end_tag)
        self._in_reasoning = starts_in_reasoning
        self._buffer = ""
        self._trimmer = EdgeTrimmer()
        self._finished = False

    @property
    def in_reasoning(self) -> bool:
        """Whether the text fed so far ends inside a reasoning section (useful for token accounting)."""
        return self._in_reasoning

    def feed(self, text: str) -> list[Piece]:
        if self._finished:
            raise RuntimeError("ThinkingStreamParser.feed() called after finish()")
        self._buffer += text
        pieces: list[Piece] = []
        while self._consume_tag(pieces):
            pass
        keep = partial_tag_len(self._buffer, self._tags)
        self._emit(pieces, self._buffer[: len(self._buffer) - keep])
        self._buffer = self._buffer[len(self._buffer) - keep :]
        return pieces

    def finish(self) -> list[Piece]:
        """Flush held text: a partial tag at the very end was never completed, so it is plain text."""
        if self._finished:
            return []
        self._finished = True
        pieces: list[Piece] = []
        self._emit(pieces, self._buffer)
        self._buffer = ""
        self._trimmer.restart()  # the end of the stream ends the section: trailing whitespace goes
        return pieces

    def _consume_tag(self, pieces: list[Piece]) -> bool:
        """Handle the earliest complete tag in the buffer, if any; return whether one was found."""
        found = [(i, tag) for tag in self._tags if (i := self._buffer.find(tag)) >= 0]
        if not found:
            return False
        index, tag = min(found)
        self._emit(pieces, self._buffer[:index])
        self._buffer = self._buffer[index + len(tag) :]
        to_reasoning = tag == self._start_tag
        if to_reasoning != self._in_reasoning:
            self._in_reasoning = to_reasoning
            self._trimmer.restart()
        return True

    def _emit(self, pieces: list[Piece], text: str) -> None:
        out = self._trimmer.push(text)
        if not out:
            return
        kind = REASONING if self._in_reasoning else CONTENT
        if pieces and pieces[-1][0] == kind:
            pieces[-1] = (kind, pieces[-1][1] + out)
        else:
            pieces.append((kind, out))


def prompt_opens_reasoning(prompt: str, start_tag: str = "<think>", end_tag: str = "</think>") -> bool:
    """Whether a rendered prompt ends inside an open reasoning section (the template pre-filled
    `<think>`), i.e. whether the parser must start with `starts_in_reasoning=True`."""
    start = prompt.rfind(start_tag)
    return start >= 0 and prompt.rfind(end_tag) < start


# A line that starts a new step: "1.", "1)", "1、", "Step 1:", "步骤1：", "第1步", "第一步", or a bullet.
# "1." needs a following space so that "3.14 is ..." is not taken for a step number.
_STEP_MARKER = re.compile(
    r"""^\s*(?:
        \d{1,3}[.)]\s+
      | \d{1,3}、\s*
      | (?:step|步骤)\s*\d{1,3}\s*[:：.)、]?\s*
      | 第\s*[\d一二三四五六七八九十百]+\s*步\s*[:：.、，,]?\s*
      | [-*•·]\s+
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_BLANK_LINES = re.compile(r"\n\s*\n")


def split_reasoning_steps(reasoning: str) -> list[str]:
    """Split reasoning text into steps, each stripped and non-empty.

    Numbered or bulleted lines start steps (the marker itself is removed; following unmarked lines
    belong to the step above; text before the first marker is a step of its own). Without markers,
    paragraphs are steps, and a single paragraph falls back to one step per line.
    """
    lines = reasoning.splitlines()
    if any(_STEP_MARKER.match(line) for line in lines):
        return _split_marked(lines)
    paragraphs = [p.strip() for p in _BLANK_LINES.split(reasoning) if p.strip()]
    if len(paragraphs) == 1:
        return [line.strip() for line in lines if line.strip()]
    return paragraphs


def _split_marked(lines: list[str]) -> list[str]:
    steps: list[list[str]] = [[]]
    for line in lines:
        marker = _STEP_MARKER.match(line)
        if marker:
            steps.append([line[marker.end() :]])
        else:
            steps[-1].append(line)
    joined = ("\n".join(part.strip() for part in step if part.strip()) for step in steps)
    return [step for step in joined if step]
