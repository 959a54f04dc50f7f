"""The real backend: a Hugging Face causal LM run with PyTorch, with continuous batching.

One background thread owns the model. New requests are prefilled one at a time, then join the running
batch; every decoding step runs one batched forward pass over all active requests and hands each
request its next token through its own asyncio queue. Closing a request's iterator marks it cancelled,
and the thread drops it (and its KV cache) before the next step.

Why a custom loop rather than transformers' ContinuousBatchingManager: measured on this 2-core CPU with
SmolLM2-135M and 64 new tokens, `model.generate_batch` (its manager) gave 2.3-3.9 tok/s for one request
and 27-29 tok/s for 16 (its paged SDPA path is slow on CPU); this loop gives 13-16 and 71-91 tok/s, about
what a static batched `model.generate` gives (benchmarks/bench_backend.py), while requests join, leave
and are cancelled at any step, each with its own sampling, seed, EOS and logprobs.

Why per-request KV caches with a per-row attention ("ragged" attention) rather than a left-padded batch:
each request's attention then sees exactly the keys it would see alone, and on CPU the linear layers run
through oneDNN's packed kernels, which give bitwise the same rows whatever the batch size. So a request's
logits do not depend on what else is in the batch: greedy output is identical batched and alone, and a
seeded sample reproduces. It also avoids padding waste and re-padding when requests join or leave.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AttentionInterface, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.cache_utils import Cache, DynamicCache
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from autoglm_core.backends.base import (
    BackendRequest,
    ChatMessageDict,
    ModelInfo,
    SamplingConfig,
    TokenChunk,
)
from autoglm_core.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound, NotReady

logger = logging.getLogger(__name__)

BACKEND_NAME = "transformers"
# Name under which the per-row attention is registered with transformers.
RAGGED_ATTENTION = "autoglm_ragged"
# oneDNN packs weights for a batch size; with a hint >= 16 its rows were bitwise batch-invariant here.
_PACK_BATCH_HINT = 16
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


# --------------------------------------------------------------------------------------------------
# KV cache: one growable buffer per request and layer, and a Cache view over the requests of a step
# --------------------------------------------------------------------------------------------------


class _SequenceKV:
    """One request's keys and values for every layer, in buffers that grow by doubling."""

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.lengths: list[int] = []

    def append(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> None:
        """Adds key/value [kv_heads, n, head_dim] at the end of `layer`."""
        if layer == len(self.keys):
            capacity = max(64, 2 * key.shape[1])
            self.keys.append(key.new_empty((key.shape[0], capacity, key.shape[2])))
            self.values.append(value.new_empty((value.shape[0], capacity, value.shape[2])))
            self.lengths.append(0)
        start, end = self.lengths[layer], self.lengths[layer] + key.shape[1]
        if end > self.keys[layer].shape[1]:
            self._grow(layer, end)
        self.keys[layer][:, start:end].copy_(key)
        self.values[layer][:, start:end].copy_(value)
        self.lengths[layer] = end

    def _grow(self, layer: int, needed: int) -> None:
        capacity = max(needed, 2 * self.keys[layer].shape[1])
        for buffers in (self.keys, self.values):
            old = buffers[layer]
            new = old.new_empty((old.shape[0], capacity, old.shape[2]))
            new[:, : self.lengths[layer]].copy_(old[:, : self.lengths[layer]])
            buffers[layer] = new

    def view(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of `layer` as [1, kv_heads, length, head_dim] views."""
        n = self.lengths[layer]
        return self.keys[layer][None, :, :n], self.values[layer][None, :, :n]

    @property
    def length(self) -> int:
        return self.lengths[0] if self.lengths else 0


class _RaggedCache(Cache):
    """The cache a forward pass sees: row b of the batch is `rows[b]`, each with its own length.

    `update` stores the new keys/values in each row's buffers; the ragged attention function then reads
    the rows directly, so the padded tensors HF would build are never needed.
    """

    is_compileable = False

    def __init__(self, rows: list[_SequenceKV]) -> None:
        super().__init__(layers=[])
        self.rows = rows

    def update(  # type: ignore[override]
        self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        for b, row in enumerate(self.rows):
            row.append(layer_idx, key_states[b], value_states[b])
        return key_states, value_states

    def get_seq_length(self, layer_idx: int = 0) -> int:  # type: ignore[override]
        return max((row.lengths[layer_idx] for row in self.rows if len(row.lengths) > layer_idx), default=0)


# The cache of the forward pass running in this thread (HF does not hand the cache to attention functions).
_CURRENT = threading.local()


def _ragged_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention for each row over its own cache; HF's (padded) mask is not needed and ignored."""
    cache = getattr(_CURRENT, "cache", None)
    if not isinstance(cache, _RaggedCache):
        raise RuntimeError("ragged attention runs only inside the backend's decode thread")
    if kwargs.get("softcap") is not None:
        raise ValueError("attention logit soft-capping is not supported")
    layer = int(module.layer_idx)  # type: ignore[arg-type]
    window = kwargs.get("sliding_window") or getattr(module, "sliding_window", None)
    if query.shape[2] == 1:
        return _decode_attention(cache.rows, layer, query, scaling, window), None
    kwargs.pop("is_causal", None)
    outputs = []
    for b, row in enumerate(cache.rows):
        keys, values = row.view(layer)
        mask = _row_mask(query.shape[2], keys.shape[2], window, query.device)
        out, _ = sdpa_attention_forward(
            module, query[b : b + 1], keys, values, mask, dropout, scaling, is_causal=mask is None, **kwargs
        )
        outputs.append(out)
    return (outputs[0] if len(outputs) == 1 else torch.cat(outputs)), None


def _decode_attention(
    rows: list[_SequenceKV], layer: int, query: torch.Tensor, scaling: float | None, window: int | None
) -> torch.Tensor:
    """One query token per row: [B, heads, 1, dim] -> [B, 1, heads, dim], attention row by row.

    The query heads sharing a KV head are that head's query rows (as HF's `pack_gqa`), so no key is
    repeated. Plain matmul/softmax rather than SDPA: for one query token SDPA's kernel is no faster, and
    it enters an OpenMP parallel region per call, which stalls for a scheduler tick whenever another
    process holds the second core (measured on this shared box, 30 layers x 16 rows: median 69 ms with
    SDPA, 24 ms with matmul/softmax).
    The per-row work is the same alone or batched, so batching never changes a row's numbers.
    """
    batch, heads, _, dim = query.shape
    kv_heads = rows[0].keys[layer].shape[0]
    scale = scaling if scaling is not None else dim**-0.5
    grouped = (query * scale).transpose(1, 2).reshape(batch, kv_heads, heads // kv_heads, dim)
    outputs = []
    for b, row in enumerate(rows):
        n = row.lengths[layer]
        start = max(0, n - window) if window else 0
        keys, values = row.keys[layer][:, start:n], row.values[layer][:, start:n]
        scores = torch.matmul(grouped[b], keys.transpose(1, 2))
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(values.dtype)  # fp32 softmax for bf16
        outputs.append(torch.matmul(probs, values))
    return torch.stack(outputs).reshape(batch, 1, heads, dim)


def _row_mask(q_len: int, kv_len: int, window: int | None, device: torch.device) -> torch.Tensor | None:
    """A boolean [1, 1, q, kv] mask where plain causal attention (or a decode step) is not enough."""
    if q_len == 1 or (q_len == kv_len and not (window and q_len > window)):
        return None
    q_pos = torch.arange(kv_len - q_len, kv_len, device=device)[:, None]
    k_pos = torch.arange(kv_len, device=device)[None, :]
    allowed = k_pos <= q_pos
    if window:
        allowed &= k_pos > q_pos - window
    return allowed[None, None]


AttentionInterface.register(RAGGED_ATTENTION, _ragged_attention)


# --------------------------------------------------------------------------------------------------
# Faster batch-invariant linears on CPU
# --------------------------------------------------------------------------------------------------


class _PackedLinear(nn.Module):
    """nn.Linear through oneDNN with a pre-packed weight.

    Measured here (SmolLM2-135M shapes, 2 threads): 28 ms vs 33 ms per token at batch 1 and 47 ms vs 90 ms
    at batch 16 against MKL (with 1 thread: no gain at batch 1, ~10% at 16). Above all its rows are
    bitwise the same whatever the batch size (checked for 1..1100 rows); MKL's are not.
    """

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        weight = linear.weight.detach()
        self.packed = nn.Parameter(torch.ops.mkldnn._reorder_linear_weight(weight, _PACK_BATCH_HINT), False)
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach(), False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(
            x.contiguous(), self.packed, self.bias, "none", [], ""
        )
        return out


def _pack_linears(model: nn.Module) -> int:
    """Swaps every fp32 nn.Linear for a _PackedLinear; returns how many were swapped."""
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear and child.weight.dtype == torch.float32:
                setattr(parent, name, _PackedLinear(child))
                swapped += 1
    return swapped


def _can_pack(device: torch.device, dtype: torch.dtype) -> bool:
    onednn = torch.backends.mkldnn.is_available()  # type: ignore[no-untyped-call]
    if device.type != "cpu" or dtype != torch.float32 or not onednn:
        return False
    if os.environ.get("AUTOGLM_DISABLE_ONEDNN_PACKING"):
        return False
    try:
        weight, x = torch.randn(8, 4), torch.randn(2, 4)
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, _PACK_BATCH_HINT)
        got = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
        return bool(torch.allclose(got, x @ weight.T, atol=1e-5))
    except (RuntimeError, AttributeError):
        return False


# --------------------------------------------------------------------------------------------------
# Tokenizer adapter
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Per-request state and sampling
# --------------------------------------------------------------------------------------------------

_DONE = object()


@dataclass(eq=False)
class _Stream:
    """One request inside the decode thread, and the way back to its asyncio consumer."""

    request: BackendRequest
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Any]
    max_new_tokens: int
    eos_ids: frozenset[int]
    kv: _SequenceKV = field(default_factory=_SequenceKV)
    generated: int = 0
    last_token: int = -1
    # Set by the consumer side (any thread); read by the decode thread once per step.
    cancelled: bool = False
    generator: torch.Generator | None = None
    seen: torch.Tensor | None = None  # token ids for the repetition penalty


def _release(stream: _Stream) -> None:
    """Frees a finished or cancelled request's KV cache now, not when its consumer lets go of it."""
    stream.kv = _SequenceKV()


def _deliver(items: list[tuple[_Stream, Any]]) -> None:
    """Runs on the consumers' event loop: hands each item to its stream's queue."""
    for stream, item in items:
        stream.queue.put_nowait(item)


def _needs_processing(s: SamplingConfig) -> bool:
    return s.temperature > 0 or s.repetition_penalty != 1.0


def _apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """HF's rule: seen tokens' logits are divided by the penalty when positive, multiplied when negative."""
    scores = logits.gather(0, seen)
    scores = torch.where(scores < 0, scores * penalty, scores / penalty)
    return logits.scatter(0, seen, scores)


def _sample(logits: torch.Tensor, s: SamplingConfig, generator: torch.Generator | None) -> int:
    """One token from a 1-D logits row with temperature, top-k and top-p."""
    if s.temperature <= 0:
        return int(logits.argmax())
    logits = logits / s.temperature
    if 0 < s.top_k < logits.shape[0]:
        kth = torch.topk(logits, s.top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if s.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        # Drop a token when the tokens ranked above it already reach top_p (the first always stays).
        drop = (torch.cumsum(probs, dim=-1) - probs) >= s.top_p
        logits = logits.scatter(0, order, sorted_logits.masked_fill(drop, float("-inf")))
    probs = torch.softmax(logits, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))


# --------------------------------------------------------------------------------------------------
# The decode thread
# --------------------------------------------------------------------------------------------------


class _DecodeWorker:
    """Owns the model in one thread: admits requests, prefills them, decodes the batch step by step."""

    def __init__(self, model: PreTrainedModel, max_batch_size: int, num_threads: int | None) -> None:
        self.model = model
        self.device = next(model.parameters()).device
        self.max_batch_size = max_batch_size
        self.num_threads = num_threads
        self.inbox: queue.SimpleQueue[_Stream | None] = queue.SimpleQueue()
        self.pending: deque[_Stream] = deque()
        self.active: list[_Stream] = []
        self.cache_kwarg = _cache_kwarg(model)
        self.thread = threading.Thread(target=self._run, name="autoglm-decode", daemon=True)
        self.failure: BaseException | None = None
        self._stopping = False
        # Guards `_closed` so that no request can slip into the inbox after the thread drained it.
        self._lock = threading.Lock()
        self._closed = False
        # Items produced during a step, delivered together by _flush().
        self._outbox: list[tuple[_Stream, Any]] = []

    def start(self) -> None:
        self.thread.start()

    def submit(self, stream: _Stream) -> None:
        with self._lock:
            if self._closed or self._stopping:
                raise NotReady("the model is being unloaded")
            self.inbox.put(stream)

    def stop(self) -> None:
        self._stopping = True
        self.inbox.put(None)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive() and not self._stopping

    # -- delivery ----------------------------------------------------------------------------------

    def _send(self, stream: _Stream, item: Any) -> None:
        self._outbox.append((stream, item))

    def _flush(self) -> None:
        """Delivers the step's items with one event-loop wake-up per step rather than one per stream.

        Fewer wake-ups mean fewer GIL hand-offs between the event loop and this thread mid-step.
        """
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Stream, Any]]] = {}
        for stream, item in self._outbox:
            by_loop.setdefault(stream.loop, []).append((stream, item))
        self._outbox = []
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:  # that loop is closed: nobody is listening any more
                for stream, _ in items:
                    stream.cancelled = True

    # -- the loop ----------------------------------------------------------------------------------

    def _run(self) -> None:
        if self.num_threads and self.device.type == "cpu":
            torch.set_num_threads(self.num_threads)
        try:
            with torch.inference_mode():
                while not self._stopping:
                    self._collect(block=not self.active and not self.pending)
                    self._admit()
                    self._drop_cancelled()
                    if self.active:
                        self._step_safely()
        except BaseException as exc:  # keep the reason for health() and the waiting consumers
            self.failure = exc
            logger.exception("decode thread died")
        finally:
            self._fail_all(self.failure or NotReady("the model was unloaded"))

    def _collect(self, block: bool) -> None:
        """Moves new requests from the inbox to `pending`; blocks only when there is nothing to do."""
        try:
            item = self.inbox.get() if block else self.inbox.get_nowait()
            while True:
                if item is None:
                    self._stopping = True
                    return
                self.pending.append(item)
                item = self.inbox.get_nowait()
        except queue.Empty:
            return

    def _admit(self) -> None:
        """Prefills pending requests (alone, so their cache is exact) while there are free slots."""
        while self.pending and len(self.active) < self.max_batch_size and not self._stopping:
            stream = self.pending.popleft()
            if stream.cancelled:
                continue
            try:
                logits = self._forward([stream.kv], [list(stream.request.prompt_ids)])
                if self._emit(stream, logits[0], int(logits[0].argmax())):
                    self.active.append(stream)
            except Exception as exc:  # a bad request must not take the others down
                logger.exception("prefill of %s failed", stream.request.request_id)
                self._send(stream, _as_engine_error(exc))
            self._flush()  # the first token goes out now, not after the other prefills

    def _drop_cancelled(self) -> None:
        for stream in self.active:
            if stream.cancelled:
                _release(stream)
        self.active = [s for s in self.active if not s.cancelled]

    def _step_safely(self) -> None:
        try:
            self._decode_step()
        except Exception as exc:
            logger.exception("decode step failed")
            error = _as_engine_error(exc)
            for stream in self.active:
                self._send(stream, error)
            self.active = []
        self._flush()

    def _decode_step(self) -> None:
        rows = self.active
        logits = self._forward([s.kv for s in rows], [[s.last_token] for s in rows])
        # One argmax (and, on a GPU, one device->host copy) for the whole batch.
        greedy = logits.argmax(dim=-1).tolist()
        self.active = []
        for s, row, g in zip(rows, logits, greedy, strict=True):
            if self._emit(s, row, g):
                self.active.append(s)
            else:
                _release(s)

    def _forward(self, rows: list[_SequenceKV], tokens: list[list[int]]) -> torch.Tensor:
        """One forward pass over `rows`, each extended by its `tokens` (same count per row); last logits."""
        input_ids = torch.tensor(tokens, dtype=torch.long, device=self.device)
        n = input_ids.shape[1]
        starts = torch.tensor([[kv.length] for kv in rows], dtype=torch.long, device=self.device)
        position_ids = starts + torch.arange(n, device=self.device)[None, :]
        cache = _RaggedCache(rows)
        _CURRENT.cache = cache
        try:
            out = self.model(
                input_ids=input_ids,
                position_ids=position_ids,
                use_cache=True,
                logits_to_keep=1,
                **{self.cache_kwarg: cache},
            )
        finally:
            _CURRENT.cache = None
        logits: torch.Tensor = out.logits[:, -1, :].float()
        return logits

    def _emit(self, s: _Stream, logits: torch.Tensor, greedy: int) -> bool:
        """Picks the next token of `s` (`greedy` is its argmax), sends it; returns whether `s` continues."""
        if s.cancelled:
            return False
        sampling = s.request.sampling
        token = greedy
        if _needs_processing(sampling):
            processed = logits
            if sampling.repetition_penalty != 1.0 and s.seen is not None:
                processed = _apply_repetition_penalty(logits, s.seen, sampling.repetition_penalty)
            token = _sample(processed, sampling, s.generator)
        s.generated += 1
        if token in s.eos_ids:
            self._send(s, TokenChunk(token_ids=[], eos=True))
            self._send(s, _DONE)
            return False
        logprobs = [float(torch.log_softmax(logits, dim=-1)[token])] if s.request.want_logprobs else []
        self._send(s, TokenChunk(token_ids=[token], logprobs=logprobs))
        if s.seen is not None:
            s.seen = torch.cat([s.seen, s.seen.new_tensor([token])])
        s.last_token = token
        if s.generated >= s.max_new_tokens:
            self._send(s, _DONE)
            return False
        return True

    def _fail_all(self, error: BaseException) -> None:
        with self._lock:
            self._closed = True
            while True:
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    self.pending.append(item)
        for stream in [*self.active, *self.pending]:
            self._send(stream, _as_engine_error(error))
        self._flush()
        self.active, self.pending = [], deque()


def _cache_kwarg(model: PreTrainedModel) -> str:
    """transformers 5.24 renamed forward's `past_key_values` to `cache` (the old name warns)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _as_engine_error(exc: BaseException) -> EngineError:
    if isinstance(exc, EngineError):
        return exc
    return FailedPrecondition(f"generation failed: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def _in_fresh_thread(fn: Callable[[], None]) -> asyncio.Future[None]:
    """Runs fn in a new thread that ends with it, not in asyncio's long-lived executor.

    Torch work leaves an OpenMP thread pool behind in the thread that ran it. With a second pool alive
    (say in an idle executor thread) libgomp sees more threads than cores and stops spin-waiting between
    parallel regions, so every region pays a futex wake-up: measured 100 ms instead of 65 ms per token.
    """
    future: concurrent.futures.Future[None] = concurrent.futures.Future()

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            outcome: BaseException | None = exc
        else:
            outcome = None
        # The waiter may have given up (load timeout cancels the future): then nobody wants the outcome.
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if outcome is None:
                future.set_result(None)
            else:
                future.set_exception(outcome)

    threading.Thread(target=run, name="autoglm-load", daemon=True).start()
    return asyncio.wrap_future(future)


def _default_threads() -> int:
    """Every core this process may use (affinity/cgroup aware).

    Measured on the 2-core box (benchmarks/bench_backend.py, 64 tokens): 2 threads 15-16 tok/s for one
    stream and 83-91 tok/s for 16; 1 thread 11-13 and 62-70. On a box shared with busy neighbours one
    thread degrades more gracefully (OpenMP regions stall when a core is taken): pass num_threads=1.
    """
    return max(1, len(os.sched_getaffinity(0)))


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise FailedPrecondition(f"unknown device {device!r}") from exc


def _resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        # bf16 halves memory traffic on GPUs; on CPUs without bf16 kernels fp32 is faster and exact.
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if dtype not in _DTYPES:
        raise FailedPrecondition(f"unknown dtype {dtype!r}; use auto, float32, bfloat16 or float16")
    return _DTYPES[dtype]


def _locate(source: str) -> tuple[Path, str | None]:
    """(directory, gguf file name or None) for a model directory or a .gguf file."""
    path = Path(source).expanduser()
    if not path.exists():
        raise NotFound("model", source)
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise FailedPrecondition(
                f"{source}: a model file must be a .gguf; otherwise give a model directory"
            )
        return path.parent, path.name
    if (path / "config.json").is_file():
        return path, None
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:  # a directory holding just one GGUF file means that file
        return path, ggufs[0].name
    raise FailedPrecondition(f"{source}: not a Hugging Face model directory (no config.json)")


def _load_sync(source: str, device: torch.device, dtype: torch.dtype) -> tuple[PreTrainedModel, Any]:
    directory, gguf_file = _locate(source)
    kwargs: dict[str, Any] = {"local_files_only": True}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(directory), **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            str(directory), dtype=dtype, attn_implementation="sdpa", **kwargs
        )
        model.to(device)  # type: ignore[arg-type]
    except Exception as exc:
        raise FailedPrecondition(f"cannot load model from {source}: {type(exc).__name__}: {exc}") from exc
    model.eval()  # type: ignore[no-untyped-call]
    return model, tokenizer


def _eos_ids(model: PreTrainedModel, tokenizer: Any) -> tuple[int, ...]:
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        eos = model.config.get_text_config().eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    ids = [eos] if isinstance(eos, int) else list(eos or [])
    return tuple(dict.fromkeys(int(i) for i in ids))


def _default_sampling(model: PreTrainedModel) -> SamplingConfig:
    gc = model.generation_config
    sample = bool(getattr(gc, "do_sample", False))
    return SamplingConfig(
        temperature=float(gc.temperature or 1.0) if sample else 0.0,
        top_p=float(gc.top_p or 1.0) if sample else 1.0,
        top_k=int(gc.top_k or 0) if sample else 0,
        max_new_tokens=int(gc.max_new_tokens or SamplingConfig.max_new_tokens),
        repetition_penalty=float(gc.repetition_penalty or 1.0),
    )


# --------------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------------


class TransformersBackend:
    """Implements autoglm_core.backends.base.Backend with transformers + PyTorch."""

    def __init__(
        self,
        source: str,
        *,
        name: str,
        version: str = "1.0.0",
        device: str = "auto",
        dtype: str = "auto",
        max_batch_size: int = 16,
        num_threads: int | None = None,
        load_timeout_s: float = 900.0,
        ignore_eos: bool = False,
    ) -> None:
        if max_batch_size < 1:
            raise InvalidArgument.one("max_batch_size", "must be at least 1")
        self.source = str(source)
        self.name, self.version = name, version
        self._device_name, self._dtype_name = device, dtype
        self.max_batch_size = max_batch_size
        self.num_threads = num_threads or _default_threads()
        self.load_timeout_s = load_timeout_s
        # For benchmarks: always generate max_new_tokens.
        self.ignore_eos = ignore_eos
        self._model: PreTrainedModel | None = None
        self._tokenizer: HFChatTokenizer | None = None
        self._info: ModelInfo | None = None
        self._worker: _DecodeWorker | None = None
        self._load_lock = asyncio.Lock()
        self._load_abandoned = False

    @property
    def current_batch_size(self) -> int:
        """Requests decoding together in the current step (for metrics and tests)."""
        return len(self._worker.active) if self._worker is not None else 0

    # -- Backend protocol --------------------------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        """What the model reports; before load() only name, version and source are known."""
        if self._info is None:
            return ModelInfo(
                name=self.name,
                version=self.version,
                backend=BACKEND_NAME,
                source=self.source,
                context_length=0,
                eos_token_ids=(),
                device=self._device_name,
            )
        return self._info

    @property
    def tokenizer(self) -> HFChatTokenizer:
        if self._tokenizer is None:
            raise NotReady(f"model {self.name} is not loaded")
        return self._tokenizer

    async def load(self) -> None:
        async with self._load_lock:
            if self._worker is not None:
                return
            self._load_abandoned = False
            try:
                await asyncio.wait_for(_in_fresh_thread(self._load_blocking), timeout=self.load_timeout_s)
            except TimeoutError as exc:
                self._load_abandoned = True
                raise FailedPrecondition(
                    f"loading {self.source} took longer than {self.load_timeout_s:.0f} s"
                ) from exc
            except EngineError:
                raise
            except Exception as exc:  # e.g. out of memory while packing or warming up
                raise FailedPrecondition(f"cannot load {self.source}: {type(exc).__name__}: {exc}") from exc

    async def health(self) -> bool:
        return self._worker is not None and self._worker.alive

    async def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
            await asyncio.to_thread(worker.thread.join)
        self._model = None

    async def generate(self, request: BackendRequest) -> AsyncGenerator[TokenChunk, None]:
        worker = self._worker
        if worker is None or not worker.alive:
            raise NotReady(f"model {self.name} is not loaded")
        stream = self._new_stream(request)
        worker.submit(stream)
        try:
            while True:
                item = await stream.queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # Closing the iterator (consumer done, cancelled or failed): the thread drops the request
            # and frees its cache before its next step.
            stream.cancelled = True

    # -- helpers -----------------------------------------------------------------------------------

    def _new_stream(self, request: BackendRequest) -> _Stream:
        info = self._info
        if info is None:
            raise NotReady(f"model {self.name} is not loaded")
        prompt_len = len(request.prompt_ids)
        if prompt_len == 0:
            raise InvalidArgument.one("prompt_ids", "the prompt is empty")
        if prompt_len >= info.context_length:
            raise InvalidArgument.one(
                "prompt_ids",
                f"the prompt has {prompt_len} tokens; the context length is {info.context_length}",
            )
        s = request.sampling
        if s.max_new_tokens < 1:
            raise InvalidArgument.one("sampling.max_new_tokens", "must be at least 1")
        device = self._worker.device if self._worker else torch.device("cpu")
        generator = None
        if s.temperature > 0:
            # Per-request generator: a seed reproduces the same sample whatever else is in the batch.
            generator = torch.Generator(device=device)
            generator.manual_seed(s.seed)
        seen = None
        if s.repetition_penalty != 1.0:
            seen = torch.tensor(sorted(set(request.prompt_ids)), dtype=torch.long, device=device)
        return _Stream(
            request=request,
            loop=asyncio.get_running_loop(),
            queue=asyncio.Queue(),
            max_new_tokens=min(s.max_new_tokens, info.context_length - prompt_len),
            eos_ids=frozenset() if self.ignore_eos else frozenset(info.eos_token_ids),
            generator=generator,
            seen=seen,
        )

    def _load_blocking(self) -> None:
        device = _resolve_device(self._device_name)
        dtype = _resolve_dtype(self._dtype_name, device)
        if device.type == "cpu":
            torch.set_num_threads(self.num_threads)
        model, hf_tokenizer = _load_sync(self.source, device, dtype)
        tokenizer = HFChatTokenizer(hf_tokenizer)
        probe = (tokenizer.encode("The quick brown fox jumps over the lazy dog.") or [0, 1, 2, 3])[:8]
        reference = _reference_logits(model, probe)
        packed = _pack_linears(model) if _can_pack(device, dtype) else 0
        model.set_attn_implementation(RAGGED_ATTENTION)
        worker = _DecodeWorker(model, self.max_batch_size, self.num_threads)
        _check_against_reference(worker, probe, reference, dtype)
        template = tokenizer.chat_template_text
        text_config = model.config.get_text_config()
        self._info = ModelInfo(
            name=self.name,
            version=self.version,
            backend=BACKEND_NAME,
            source=self.source,
            context_length=int(getattr(text_config, "max_position_embeddings", 0) or 2048),
            eos_token_ids=_eos_ids(model, hf_tokenizer),
            device=str(device),
            supports_thinking="enable_thinking" in template or "<think>" in template,
            default_sampling=_default_sampling(model),
        )
        if self._load_abandoned:  # load() gave up waiting (timeout): do not come alive behind its back
            return
        self._model, self._tokenizer = model, tokenizer
        logger.info("loaded %s on %s (%s, %d packed linears)", self.source, device, dtype, packed)
        worker.start()
        self._worker = worker


def _reference_logits(model: PreTrainedModel, probe: list[int]) -> torch.Tensor:
    """Logits of the probe prompt and one decode step, computed the plain HF way."""
    device = next(model.parameters()).device
    with torch.inference_mode():
        ids = torch.tensor([probe], device=device)
        cache = {_cache_kwarg(model): DynamicCache()}
        first = model(input_ids=ids[:, :-1], use_cache=True, **cache).logits[0, -1]
        second = model(input_ids=ids[:, -1:], use_cache=True, **cache).logits[0, -1]
    return torch.stack([first, second]).float()


def _check_against_reference(
    worker: _DecodeWorker, probe: list[int], reference: torch.Tensor, dtype: torch.dtype
) -> None:
    """Runs the probe through the ragged path; refuses models whose attention it cannot reproduce."""
    kv = _SequenceKV()
    try:
        with torch.inference_mode():
            first = worker._forward([kv], [probe[:-1]])[0]
            second = worker._forward([kv], [probe[-1:]])[0]
    except Exception as exc:
        raise FailedPrecondition(
            f"model not supported by the batched decoder: {type(exc).__name__}: {exc}"
        ) from exc
    got = torch.stack([first, second])
    tolerance = (1e-3 if dtype == torch.float32 else 5e-2) * (1.0 + float(reference.abs().max()))
    error = float((got - reference).abs().max())
    if error > tolerance:
        raise FailedPrecondition(
            f"model not supported by the batched decoder: its logits differ from transformers' by {error:.3g}"
        )
