"""Streaming detokenization and stop strings, fed in every possible chunking."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from autoglm_core.backends.mock import ByteTokenizer
from autoglm_core.text.detokenizer import IncrementalDetokenizer
from autoglm_core.text.stops import StopMatcher

TOKENIZER = ByteTokenizer()


def detokenize_in_chunks(text: str, rng: random.Random) -> list[str]:
    ids = TOKENIZER.encode(text)
    detokenizer = IncrementalDetokenizer(TOKENIZER.decode)
    out = []
    i = 0
    while i < len(ids):
        step = rng.randint(1, 4)
        out.append(detokenizer.feed(ids[i : i + step]))
        i += step
    out.append(detokenizer.flush())
    return out


@given(st.text(min_size=0, max_size=60), st.integers(0, 1000))
def test_detokenizer_round_trips_and_never_splits_a_character(text: str, seed: int) -> None:
    pieces = detokenize_in_chunks(text, random.Random(seed))
    assert "".join(pieces) == text
    assert all("\ufffd" not in p for p in pieces)


def test_detokenizer_holds_back_an_incomplete_character() -> None:
    detokenizer = IncrementalDetokenizer(TOKENIZER.decode)
    ids = TOKENIZER.encode("北")
    assert detokenizer.feed(ids[:1]) == ""
    assert detokenizer.feed(ids[1:2]) == ""
    assert detokenizer.feed(ids[2:]) == "北"


def test_detokenizer_flush_drops_a_broken_tail() -> None:
    detokenizer = IncrementalDetokenizer(TOKENIZER.decode)
    ids = TOKENIZER.encode("ok🙂")
    assert detokenizer.feed(ids[:4]) == ""  # "ok" waits with the incomplete emoji
    assert detokenizer.flush() == "ok"


def run_stops(text: str, stops: list[str], chunk: int) -> tuple[str, str | None]:
    matcher = StopMatcher(stops)
    out = "".join(matcher.feed(text[i : i + chunk]) for i in range(0, len(text), chunk))
    return out + matcher.flush(), matcher.matched


@given(
    st.text(alphabet="abST OP", max_size=40),
    st.lists(st.text(alphabet="abSTOP", min_size=1, max_size=4), max_size=3),
    st.integers(1, 5),
)
def test_stop_matcher_cuts_where_a_stop_first_completes_in_any_chunking(
    text: str, stops: list[str], chunk: int
) -> None:
    # Generation stops where a stop string is first completed (earliest end, then earliest start).
    positions = [(text.find(s) + len(s), text.find(s)) for s in stops if s in text]
    expected = text[: min(positions)[1]] if positions else text
    out, matched = run_stops(text, stops, chunk)
    assert out == expected
    assert (matched is not None) == bool(positions)


def test_stop_matcher_never_emits_part_of_a_stop_string() -> None:
    matcher = StopMatcher(["</answer>"])
    assert matcher.feed("done </ans") == "done "
    assert matcher.feed("wer> tail") == ""
    assert matcher.matched == "</answer>"
    assert matcher.flush() == ""
