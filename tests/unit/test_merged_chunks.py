"""A chunk of several tokens (what a caller that fell behind gets) ends a turn at the same token,
with the same text and usage, as the same tokens one chunk at a time."""

from __future__ import annotations

from autoglm_core.backends.mock import ByteTokenizer
from autoglm_core.generation.decoding import TextEvent, TurnDecoder
from autoglm_core.generation.turn import Progress, merge_adjacent, take_tokens
from autoglm_core.generation.types import ContentDelta, FinishReason, GenerationParams, ReasoningDelta
from autoglm_core.runtime.types import TokenChunk

TOKENIZER = ByteTokenizer()


def run(chunks: list[TokenChunk], params: GenerationParams, reasoning: bool = False) -> tuple[str, Progress]:
    decoder = TurnDecoder(TOKENIZER, params.stop, starts_in_reasoning=reasoning, emit_reasoning=True)
    progress = Progress(0.0, None)
    events: list[TextEvent] = []
    for chunk in chunks:
        taken, ended = take_tokens(params, chunk, decoder, progress)
        events += taken
        if ended:
            break
    events = merge_adjacent(events + decoder.finish())
    text = "".join(f"[{e.text}]" if isinstance(e, ReasoningDelta) else e.text for e in events)
    return text, progress


def one_per_token(text: str) -> list[TokenChunk]:
    return [TokenChunk([t], logprobs=[-0.5]) for t in TOKENIZER.encode(text)]


def merged(text: str) -> list[TokenChunk]:
    ids = TOKENIZER.encode(text)
    return [TokenChunk(ids, logprobs=[-0.5] * len(ids))]


def test_a_stop_string_in_a_merged_chunk_ends_the_turn_at_the_same_token() -> None:
    params = GenerationParams(stop=["END"])
    text = "The answer is 42.END and then more text the model wrote"
    alone, alone_progress = run(one_per_token(text), params)
    together, together_progress = run(merged(text), params)
    assert together == alone == "The answer is 42."
    assert together_progress.reason == alone_progress.reason == FinishReason.STOP_SEQUENCE
    # Usage counts the tokens up to the stop, not the ones merged in behind it.
    assert (
        together_progress.completion_tokens == alone_progress.completion_tokens == len("The answer is 42.END")
    )
    assert together_progress.turn_ids == alone_progress.turn_ids


def test_the_thinking_budget_cuts_a_merged_chunk_at_the_same_token() -> None:
    params = GenerationParams(thinking=True, thinking_budget=10)
    text = "a long line of reasoning that goes on</think>answer"
    alone, alone_progress = run(one_per_token(text), params, reasoning=True)
    together, together_progress = run(merged(text), params, reasoning=True)
    assert together == alone and together_progress.reasoning_cut and alone_progress.reasoning_cut
    assert together_progress.completion_tokens == alone_progress.completion_tokens == 10


def test_adjacent_deltas_of_a_kind_are_joined_with_their_logprobs() -> None:
    one, two = ((1, "a", -0.1),), ((2, "b", -0.2),)
    events: list[TextEvent] = [
        ReasoningDelta("x"),
        ReasoningDelta("y"),
        ContentDelta("a", one),
        ContentDelta("b", two),
        ReasoningDelta("z"),
    ]
    assert merge_adjacent(events) == [
        ReasoningDelta("xy"),
        ContentDelta("ab", one + two),
        ReasoningDelta("z"),
    ]
