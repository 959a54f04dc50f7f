"""A finished stream's events as compact JSON compressed with LZ4's block format, and back.

The block format (with the size stored in front) has no frame header or checksum: stored answers
are small and live only in this process's memory, so those bytes would be overhead.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import lz4.block  # type: ignore[import-untyped]

from autoglm_core.generation.types import (
    ContentDelta,
    Finished,
    FinishReason,
    GenerationEvent,
    ReasoningDelta,
    Timings,
    ToolCallFinished,
    ToolCallRecord,
    ToolCallStarted,
    Usage,
)


class NotStorable(ValueError):
    """An event holds a value JSON cannot carry (a tool result of an odd type)."""


def encode(events: list[GenerationEvent]) -> bytes:
    """The events as UTF-8 JSON (not yet compressed)."""
    try:
        rows = [_row(event) for event in events]
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise NotStorable(str(error)) from None


def compress(raw: bytes) -> bytes:
    packed: bytes = lz4.block.compress(raw, mode="fast", store_size=True)
    return packed


def decompress(packed: bytes) -> bytes:
    raw: bytes = lz4.block.decompress(packed)
    return raw


def decode(raw: bytes) -> list[GenerationEvent]:
    return [_event(row) for row in json.loads(raw)]


def _row(event: GenerationEvent) -> list[Any]:
    if isinstance(event, ContentDelta):
        if event.top_logprobs:
            return ["c", event.text, event.logprobs, event.top_logprobs]
        return ["c", event.text, event.logprobs] if event.logprobs else ["c", event.text]
    if isinstance(event, ReasoningDelta):
        return ["r", event.text]
    if isinstance(event, ToolCallStarted):
        return ["s", event.id, event.name, event.arguments]
    if isinstance(event, ToolCallFinished):
        return ["t", asdict(event.call)]
    # Finished and its parts are flat dataclasses: a shallow copy of each does what asdict's deep
    # copy would, on every miss, for less.
    fields = dict(vars(event))
    fields["usage"] = vars(event.usage)
    fields["timings"] = vars(event.timings)
    fields["finish_reason"] = event.finish_reason.value
    return ["f", fields]


def _event(row: list[Any]) -> GenerationEvent:
    kind = row[0]
    if kind == "c":
        logprobs = tuple(tuple(entry) for entry in row[2]) if len(row) > 2 else ()
        top = (
            tuple(tuple(tuple(entry) for entry in alternatives) for alternatives in row[3])
            if len(row) > 3
            else ()
        )
        return ContentDelta(row[1], logprobs, top)  # type: ignore[arg-type]
    if kind == "r":
        return ReasoningDelta(row[1])
    if kind == "s":
        return ToolCallStarted(row[1], row[2], row[3])
    if kind == "t":
        return ToolCallFinished(ToolCallRecord(**row[1]))
    fields = dict(row[1])
    fields["finish_reason"] = FinishReason(fields["finish_reason"])
    fields["usage"] = Usage(**fields["usage"])
    fields["timings"] = Timings(**fields["timings"])
    return Finished(**fields)
