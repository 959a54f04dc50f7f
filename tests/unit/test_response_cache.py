"""The response cache's parts: the store's byte bound, LRU order and TTL, the codec, the key."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from autoglm_core.backends.base import Backend, SamplingConfig
from autoglm_core.backends.mock import MockBackend
from autoglm_core.cache.codec import compress, decode, decompress, encode
from autoglm_core.cache.keys import (
    BYPASS_ADAPTER,
    BYPASS_REQUEST,
    BYPASS_SAMPLING,
    BYPASS_SESSION,
    BYPASS_TOOLS,
    bypass_reason,
    cache_key,
)
from autoglm_core.cache.replay import ResponseCache
from autoglm_core.cache.store import ENTRY_OVERHEAD, Entry, EntryStore
from autoglm_core.generation.types import (
    ContentDelta,
    Finished,
    FinishReason,
    GenerationEvent,
    GenerationParams,
    ReasoningDelta,
    Timings,
    ToolCallFinished,
    ToolCallRecord,
    ToolCallStarted,
    Usage,
)
from autoglm_core.tools.registry import ToolSpec


def _entry(payload: bytes, model: str = "m", version: str = "1.0.0") -> Entry:
    packed = compress(payload)
    return Entry(packed=packed, raw_size=len(payload), model=model, version=version, completion_tokens=1)


def test_the_byte_bound_evicts_the_least_recently_used_entry() -> None:
    one = _entry(b"a" * 10)
    store = EntryStore(max_bytes=3 * one.size, ttl_s=60)
    for key in ("k1", "k2", "k3"):
        assert store.put(key, _entry(b"a" * 10))
    assert store.get("k1") is not None  # k1 is now the most recently used; k2 the least
    store.put("k4", _entry(b"a" * 10))
    stats = store.stats()
    assert stats.entries == 3 and stats.bytes <= store.max_bytes and stats.evictions == 1
    assert store.get("k2") is None
    assert all(store.get(k) is not None for k in ("k1", "k3", "k4"))


def test_an_entry_larger_than_the_whole_cache_is_not_stored() -> None:
    store = EntryStore(max_bytes=ENTRY_OVERHEAD + 8, ttl_s=60)
    assert not store.put("big", _entry(bytes(range(256))))
    assert store.stats().entries == 0


def test_entries_expire_after_their_ttl() -> None:
    now = [0.0]
    store = EntryStore(max_bytes=1 << 20, ttl_s=10, timer=lambda: now[0])
    store.put("k", _entry(b"hello"))
    now[0] = 9.0
    assert store.get("k") is not None
    now[0] = 10.5
    assert store.get("k") is None
    stats = store.stats()
    assert stats.entries == 0 and stats.bytes == 0 and stats.raw_bytes == 0 and stats.evictions == 0


def test_invalidation_drops_one_version_or_the_whole_model() -> None:
    store = EntryStore(max_bytes=1 << 20, ttl_s=60)
    store.put("a1", _entry(b"x", "a", "1.0.0"))
    store.put("a2", _entry(b"x", "a", "2.0.0"))
    store.put("b1", _entry(b"x", "b", "1.0.0"))
    assert store.invalidate("a", "2.0.0") == 1
    assert store.get("a2") is None and store.get("a1") is not None
    assert store.invalidate("a") == 1
    assert store.get("b1") is not None and store.stats().entries == 1


def test_events_survive_encoding_and_compression_unchanged() -> None:
    events: list[GenerationEvent] = [
        ReasoningDelta("think 模型"),
        ContentDelta("Hello 🙂", logprobs=((72, "Hello", -0.25), (5, " 🙂", -1.5))),
        ContentDelta(
            " there",
            logprobs=((9, " there", -0.5),),
            top_logprobs=(((9, " there", -0.5), (11, " then", -1.25)),),
        ),
        ToolCallStarted("call_0", "lookup", {"q": "x", "n": 2}),
        ToolCallFinished(ToolCallRecord("call_1", "", {}, error="did not parse")),
        Finished(
            finish_reason=FinishReason.STOP_SEQUENCE,
            usage=Usage(prompt_tokens=7, completion_tokens=3, reasoning_tokens=1),
            model_name="m",
            model_version="1.0.0",
            timings=Timings(1.0, 2.0, 3.0),
            seed=42,
            stop_sequence="END",
            prompt_template="qa",
            thinking="native",
        ),
    ]
    raw = encode(events)
    assert decode(decompress(compress(raw))) == events


@dataclass
class _Prepared:
    backend: Backend
    prompt_ids: list[int] = field(default_factory=lambda: [5, 6, 7])
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    tools: list[ToolSpec] = field(default_factory=list)
    tool_mode: str = "native"
    thinking: str = "off"
    enable_thinking: bool = False
    adapter: str = ""


def _client_tool(name: str) -> ToolSpec:
    return ToolSpec(name=name, description="d", parameters={"type": "object"}, kind="client")


def test_the_key_separates_users_unless_the_request_is_public() -> None:
    prepared = _Prepared(MockBackend())
    alice, bob = GenerationParams(prompt="q", user_id="alice"), GenerationParams(prompt="q", user_id="bob")
    assert cache_key(alice, prepared) != cache_key(bob, prepared)
    alice.cache_public = bob.cache_public = True
    assert cache_key(alice, prepared) == cache_key(bob, prepared)


def test_the_key_covers_version_prompt_tools_seed_and_settings() -> None:
    params = GenerationParams(prompt="q")
    base = _Prepared(MockBackend())
    key = cache_key(params, base)
    assert cache_key(params, _Prepared(MockBackend())) == key  # the same request, the same key
    assert cache_key(params, _Prepared(MockBackend(version="2.0.0"))) != key
    assert cache_key(params, _Prepared(MockBackend(), prompt_ids=[5, 6, 8])) != key
    assert cache_key(params, _Prepared(MockBackend(), tools=[_client_tool("a")])) != key
    assert cache_key(params, _Prepared(MockBackend(), tools=[_client_tool("b")])) != cache_key(
        params, _Prepared(MockBackend(), tools=[_client_tool("a")])
    )
    assert cache_key(GenerationParams(prompt="q", stop=["x"]), base) != key
    assert cache_key(GenerationParams(prompt="q", thinking=True), base) != key
    assert cache_key(GenerationParams(prompt="q", prompt_template="qa"), base) != key
    # Greedy ignores the seed the server drew; sampling does not.
    assert cache_key(params, _Prepared(MockBackend(), sampling=SamplingConfig(seed=9))) == key
    sampled = [_Prepared(MockBackend(), sampling=SamplingConfig(temperature=0.7, seed=s)) for s in (1, 2)]
    assert cache_key(params, sampled[0]) != cache_key(params, sampled[1])


@pytest.mark.parametrize(
    ("params", "tools", "sampling", "reason"),
    [
        (GenerationParams(prompt="q", cache=False), [], SamplingConfig(), BYPASS_REQUEST),
        (GenerationParams(prompt="q", session_id="s"), [], SamplingConfig(), BYPASS_SESSION),
        (GenerationParams(prompt="q"), ["python"], SamplingConfig(), BYPASS_TOOLS),
        (GenerationParams(prompt="q"), [], SamplingConfig(temperature=0.7, seed=3), BYPASS_SAMPLING),
        (GenerationParams(prompt="q", seed=3), [], SamplingConfig(temperature=0.7, seed=3), None),
        (GenerationParams(prompt="q"), ["client"], SamplingConfig(), None),
    ],
    ids=["cache-off", "session", "server-tool", "unseeded-sampling", "seeded-sampling", "client-tool"],
)
def test_who_bypasses_the_cache(
    params: GenerationParams, tools: list[str], sampling: SamplingConfig, reason: str | None
) -> None:
    specs = [ToolSpec(name=k, description="d", parameters={}, kind=k) for k in tools]  # type: ignore[arg-type]
    assert bypass_reason(params, _Prepared(MockBackend(), sampling=sampling, tools=specs)) == reason


def test_an_adapter_request_is_not_cached() -> None:
    """An adapter may be loaded again under its name with other weights: nothing keyed by the name."""
    prepared = _Prepared(MockBackend(), adapter="legal")
    assert bypass_reason(GenerationParams(prompt="q"), prepared) == BYPASS_ADAPTER


def test_a_hit_replays_what_the_store_holds_now_not_an_earlier_decoding() -> None:
    cache = ResponseCache()
    params, prepared = GenerationParams(prompt="q"), _Prepared(MockBackend())
    model = prepared.backend.info.name

    def answer(text: str) -> None:
        miss = cache.lookup(params, prepared)
        assert miss.hit is None
        finished = Finished(FinishReason.EOS, Usage(3, 1), model, prepared.backend.info.version, Timings(), 0)
        for event in (ContentDelta(text), finished):
            miss.record(event)

    answer("first")
    first = cache.lookup(params, prepared).hit
    again = cache.lookup(params, prepared).hit
    assert first is not None and again is not None
    assert first[0] == again[0] == ContentDelta("first")
    cache.invalidate(model)  # a new version was loaded: the old answer must not come back
    answer("second")
    replayed = cache.lookup(params, prepared).hit
    assert replayed is not None and replayed[0] == ContentDelta("second")


def test_a_hit_with_tool_calls_hands_each_caller_its_own_arguments() -> None:
    cache = ResponseCache()
    params, prepared = GenerationParams(prompt="q"), _Prepared(MockBackend())
    miss = cache.lookup(params, prepared)
    info = prepared.backend.info
    finished = Finished(FinishReason.TOOL_CALLS, Usage(3, 1), info.name, info.version, Timings(), 0)
    for event in (ToolCallStarted("call_0", "lookup", {"q": "x"}), finished):
        miss.record(event)
    first, second = cache.lookup(params, prepared).hit, cache.lookup(params, prepared).hit
    assert first is not None and second is not None
    assert isinstance(first[0], ToolCallStarted) and isinstance(second[0], ToolCallStarted)
    first[0].arguments["q"] = "changed by the first caller"
    assert second[0].arguments == {"q": "x"}
