"""The real backend: a Hugging Face causal LM run with PyTorch, with continuous batching.

One background thread owns the model. New requests are prefilled (those that arrived together in one
pass on the lean decoder, one at a time on transformers' forward), then join the running batch; every
decoding step runs one batched forward pass over all active requests and hands each
request its next token through its own asyncio queue. Closing a request's iterator marks it cancelled,
and the thread drops it (and its KV cache) before the next step.

Why a custom loop rather than transformers' ContinuousBatchingManager: measured on this 2-core CPU with
SmolLM2-135M and 64 new tokens, `model.generate_batch` (its manager) gave 2.3-3.9 tok/s for one request
and 27-29 tok/s for 16 (its paged SDPA path is slow on CPU); this loop gave 13-16 and 71-91 tok/s on
transformers' forward, about what a static batched `model.generate` gives, and 22.6 and 100 tok/s on
the lean decoder (benchmarks/bench_backend.py), while requests join, leave and are cancelled at any
step, each with its own sampling, seed, EOS and logprobs.

Why per-request KV caches with a per-row attention ("ragged" attention) rather than a left-padded batch:
each request's attention then sees exactly the keys it would see alone, and on CPU the linear layers run
through oneDNN's packed kernels, which give bitwise the same rows whatever the batch size. So a request's
logits do not depend on what else is in the batch: greedy output is identical batched and alone, and a
seeded sample reproduces. It also avoids padding waste and re-padding when requests join or leave.

The forward pass: on CPU, Llama-family models (llama, mistral, qwen2) run through the lean decoder of
llama_decoder.py, which is faster than transformers' modules (measured there) and computes with a
quantized GGUF's own 4/8-bit blocks (`quantization="auto"`, the default; see linear_kernels.py);
other models run through transformers' own forward with the ragged attention of ragged.py. Either
path is checked against transformers' logits at load.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import heapq
import inspect
import itertools
import logging
import os
import queue
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.cache_utils import DynamicCache

from autoglm_core.backends.base import (
    BackendRequest,
    ChatMessageDict,
    ModelInfo,
    SamplingConfig,
    TokenChunk,
)
from autoglm_core.backends.linear_kernels import QUANTIZATIONS, can_pack, pack_linears
from autoglm_core.backends.llama_decoder import LlamaDecoder, StepInterrupted, unsupported_reason
from autoglm_core.backends.prefix_cache import PrefixCache
from autoglm_core.backends.ragged import RAGGED_ATTENTION, RaggedCache, SequenceKV, active_cache
from autoglm_core.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound, NotReady

logger = logging.getLogger(__name__)

BACKEND_NAME = "transformers"
# Prompt tokens prefilled together at most (counted before prefix reuse): bounds how long the running
# requests wait for a prefill pass. A longer prompt is prefilled alone.
PREFILL_TOKENS = 1024
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


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
    kv: SequenceKV = field(default_factory=SequenceKV)
    generated: int = 0
    last_token: int = -1
    # Set by the consumer side (any thread); read by the decode thread once per step.
    cancelled: bool = False
    generator: torch.Generator | None = None
    seen: torch.Tensor | None = None  # token ids for the repetition penalty
    # (priority, arrival): lower runs first; set by the worker when the request arrives.
    order: tuple[int, int] = (0, 0)

    def __lt__(self, other: _Stream) -> bool:  # for the worker's heap of waiting requests
        return self.order < other.order

    @property
    def prefilled(self) -> bool:
        return self.kv.length > 0


def _release(stream: _Stream) -> None:
    """Frees a finished or cancelled request's KV cache now, not when its consumer lets go of it."""
    stream.kv = SequenceKV()


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

    def __init__(
        self,
        model: PreTrainedModel,
        max_batch_size: int,
        num_threads: int | None,
        decoder: LlamaDecoder | None = None,
    ) -> None:
        self.model = model
        # Set after the load's checks when prefix_cache_mb > 0 (the checks must run cold).
        self.prefix_cache: PrefixCache | None = None
        # The lean forward pass where the model is one it covers; transformers' forward otherwise.
        self.decoder = decoder
        self.device = next(model.parameters()).device
        self.max_batch_size = max_batch_size
        self.num_threads = num_threads
        self.inbox: queue.SimpleQueue[_Stream | None] = queue.SimpleQueue()
        # Requests not in the batch, best (priority, arrival) first: new ones, and paused ones that a
        # more urgent request took the place of (they keep their KV cache and resume where they were).
        self.waiting: list[_Stream] = []
        self._arrivals = itertools.count()
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
                    self._collect(block=not self.active and not self.waiting)
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
        """Moves new requests from the inbox to `waiting`; blocks only when there is nothing to do."""
        try:
            item = self.inbox.get() if block else self.inbox.get_nowait()
            while True:
                if item is None:
                    self._stopping = True
                    return
                item.order = (item.request.priority, next(self._arrivals))
                heapq.heappush(self.waiting, item)
                item = self.inbox.get_nowait()
        except queue.Empty:
            return

    def _admit(self) -> None:
        """Fills the batch from `waiting`, most urgent first; pauses the least urgent running request
        when a more urgent one waits and the batch is full.

        New requests are prefilled together, up to PREFILL_TOKENS prompt tokens, in one pass of the
        lean decoder, which gives each the cache it would get alone (on transformers' forward, one by
        one). Measured with 16 chat requests arriving together (SmolLM2-135M, 2-core CPU): one pass
        ran the linear layers over ~240 uncached tokens at once instead of 16 passes of ~15."""
        batch: list[_Stream] = []
        tokens = 0
        while self.waiting and not self._stopping:
            stream = self.waiting[0]
            if len(self.active) + len(batch) >= self.max_batch_size:
                if not self.active or not self._pause_for(stream):
                    break
                continue
            if stream.cancelled or stream.prefilled:
                heapq.heappop(self.waiting)
                if stream.cancelled:
                    _release(stream)
                else:
                    self.active.append(stream)  # a paused request resumes
                continue
            prompt_tokens = len(stream.request.prompt_ids)
            if batch and (self.decoder is None or tokens + prompt_tokens > PREFILL_TOKENS):
                break
            heapq.heappop(self.waiting)
            batch.append(stream)
            tokens += prompt_tokens
        if batch:
            self._prefill_safely(batch)

    def _prefill_safely(self, batch: list[_Stream]) -> None:
        """Prefills `batch` and sends each its first token; a failing request fails alone."""
        try:
            logits = self._prefill(batch)
        except Exception as exc:
            if len(batch) > 1:  # find the culprit: each again on its own
                for stream in batch:
                    _release(stream)
                    self._prefill_safely([stream])
                return
            logger.exception("prefill of %s failed", batch[0].request.request_id)
            _release(batch[0])
            self._send(batch[0], _as_engine_error(exc))
            self._flush()
            return
        greedy = logits.argmax(dim=-1).tolist()
        for stream, row, token in zip(batch, logits, greedy, strict=True):
            if self._emit(stream, row, token):
                self.active.append(stream)
            else:
                _release(stream)
        self._flush()  # the first tokens go out now, not after the next decode step

    def _prefill(self, batch: list[_Stream]) -> torch.Tensor:
        """Runs the prompts into the streams' empty caches, reusing cached prefixes; last logits."""
        prompts = [list(stream.request.prompt_ids) for stream in batch]
        cache = self.prefix_cache
        starts = [cache.restore(p, s.kv) if cache else 0 for p, s in zip(prompts, batch, strict=True)]
        logits = self._forward(
            [s.kv for s in batch], [p[start:] for p, start in zip(prompts, starts, strict=True)]
        )
        if cache is not None:
            for prompt, stream in zip(prompts, batch, strict=True):
                cache.store(prompt, stream.kv)
        return logits

    def _urgent_waiting(self) -> bool:
        """Whether a request more urgent than everything in the batch has arrived."""
        self._collect(block=False)
        if not self.waiting or self._stopping:
            return False
        best = self.waiting[0]
        return not best.cancelled and best.order[0] < min(s.order[0] for s in self.active)

    def _pause_for(self, stream: _Stream) -> bool:
        """Moves the least urgent running request back to `waiting` if `stream` is more urgent."""
        least = max(self.active, key=lambda s: s.order)
        if least.order[0] <= stream.order[0]:
            return False
        self.active.remove(least)
        heapq.heappush(self.waiting, least)
        return True

    def _drop_cancelled(self) -> None:
        for stream in self.active:
            if stream.cancelled:
                _release(stream)
        self.active = [s for s in self.active if not s.cancelled]
        if any(s.cancelled for s in self.waiting):  # queued or paused: their caches go now too
            for stream in self.waiting:
                if stream.cancelled:
                    _release(stream)
            self.waiting = [s for s in self.waiting if not s.cancelled]
            heapq.heapify(self.waiting)

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
        tokens = [[s.last_token] for s in rows]
        if self.decoder is not None:
            # A step of a full batch takes ~120 ms on a 2-core CPU: an urgent arrival stops it between
            # layers rather than wait for its end; the batch redoes the step after the prefill.
            lengths = [s.kv.length for s in rows]
            try:
                logits = self.decoder.forward([s.kv for s in rows], tokens, self._urgent_waiting)
            except StepInterrupted:
                for s, length in zip(rows, lengths, strict=True):
                    s.kv.truncate(length)
                return
        else:
            logits = self._forward([s.kv for s in rows], tokens)
        # One argmax (and, on a GPU, one device->host copy) for the whole batch.
        greedy = logits.argmax(dim=-1).tolist()
        self.active = []
        for s, row, g in zip(rows, logits, greedy, strict=True):
            if self._emit(s, row, g):
                self.active.append(s)
            else:
                _release(s)

    def _forward(self, rows: list[SequenceKV], tokens: list[list[int]]) -> torch.Tensor:
        """One forward pass over `rows`, each extended by its `tokens` (same count per row); last logits."""
        if self.decoder is not None:
            return self.decoder.forward(rows, tokens)
        input_ids = torch.tensor(tokens, dtype=torch.long, device=self.device)
        n = input_ids.shape[1]
        starts = torch.tensor([[kv.length] for kv in rows], dtype=torch.long, device=self.device)
        position_ids = starts + torch.arange(n, device=self.device)[None, :]
        cache = RaggedCache(rows)
        with active_cache(cache):
            out = self.model(
                input_ids=input_ids,
                position_ids=position_ids,
                use_cache=True,
                logits_to_keep=1,
                **{self.cache_kwarg: cache},
            )
        logits: torch.Tensor = out.logits[:, -1, :].float()
        return logits

    def _emit(self, s: _Stream, logits: torch.Tensor, greedy: int) -> bool:
        """Picks the next token of `s` (`greedy` is its argmax), sends it; returns whether `s` continues."""
        if s.cancelled:
            return False
        sampling = s.request.sampling
        held_back = greedy in s.eos_ids or _needs_processing(sampling)  # else masking changes nothing
        if s.generated < sampling.min_new_tokens and held_back:
            # Not allowed to end yet: EOS gets -inf, as transformers' MinNewTokensLogitsProcessor does.
            logits = logits.clone()
            logits[list(s.eos_ids)] = float("-inf")
            greedy = int(logits.argmax())
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
                    self.waiting.append(item)
        for stream in [*self.active, *self.waiting]:
            self._send(stream, _as_engine_error(error))
        self._flush()
        self.active, self.waiting = [], []


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


# from_pretrained patches process-wide state while it builds a model (new parameters are created on
# "meta"): two loads in parallel threads left that in place, and every later load failed with "Cannot
# copy out of meta tensor". One load at a time.
_LOAD_LOCK = threading.Lock()


def _load_sync(source: str, device: torch.device, dtype: torch.dtype) -> tuple[PreTrainedModel, Any]:
    directory, gguf_file = _locate(source)
    kwargs: dict[str, Any] = {"local_files_only": True}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    with _LOAD_LOCK:
        return _load_locked(source, directory, kwargs, device, dtype)


def _load_locked(
    source: str, directory: Path, kwargs: dict[str, Any], device: torch.device, dtype: torch.dtype
) -> tuple[PreTrainedModel, Any]:
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
        quantization: str = "auto",
        prefix_cache_mb: int = 0,
    ) -> None:
        if max_batch_size < 1:
            raise InvalidArgument.one("max_batch_size", "must be at least 1")
        if quantization not in QUANTIZATIONS:
            raise InvalidArgument.one("quantization", f"must be one of {', '.join(QUANTIZATIONS)}")
        # "auto": the weights as a quantized GGUF holds them, where the native kernel can; "int4": 4-bit
        # weights whatever the model (lossy off a Q4 file); see linear_kernels.make_linear.
        self.quantization = quantization
        # Keys and values of shared prompt prefixes kept for reuse (prefix_cache.py); 0 = none.
        self.prefix_cache_mb = prefix_cache_mb
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
    def prefix_cache(self) -> PrefixCache | None:
        """The cache of prompt prefixes (None when off or not loaded)."""
        return self._worker.prefix_cache if self._worker is not None else None

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
        fast_kernels = can_pack(device, dtype)
        if self.quantization == "int4" and not fast_kernels:
            raise FailedPrecondition(
                f"quantization {self.quantization} runs on CPU with a float32 model; "
                f"this load is {device} / {dtype}"
            )
        if device.type == "cpu":
            torch.set_num_threads(self.num_threads)
        model, hf_tokenizer = _load_sync(self.source, device, dtype)
        tokenizer = HFChatTokenizer(hf_tokenizer)
        probe = (tokenizer.encode("The quick brown fox jumps over the lazy dog.") or [0, 1, 2, 3])[:8]
        reference = _reference_logits(model, probe)
        worker = self._fast_worker(model, probe, reference) if fast_kernels else None
        if worker is None:
            packed = pack_linears(model) if fast_kernels else 0
            model.set_attn_implementation(RAGGED_ATTENTION)
            worker = _DecodeWorker(model, self.max_batch_size, self.num_threads)
            _check_against_reference(worker, probe, reference, 1e-3 if dtype == torch.float32 else 5e-2)
            logger.info("%s: transformers forward pass, %d packed linear layers", self.source, packed)
        if self.prefix_cache_mb > 0:
            worker.prefix_cache = PrefixCache(self.prefix_cache_mb << 20)
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
        logger.info("loaded %s on %s (%s, quantization %s)", self.source, device, dtype, self.quantization)
        worker.start()
        self._worker = worker

    def _fast_worker(
        self, model: PreTrainedModel, probe: list[int], reference: torch.Tensor
    ) -> _DecodeWorker | None:
        """A worker on the lean Llama decoder, or None where it does not cover or reproduce the model.

        The decoder must reproduce transformers' logits within fp32's tolerance, which checks the
        architecture. "auto" keeps the weights exactly, so it is held to that tolerance directly (no fp32
        copy built; fp32 is tried if it misses). int4 is built once fp32 passed, and how far its logits
        move is logged, not refused: the weights' rounding is the user's choice.
        """
        reason = unsupported_reason(model)
        worker, error = None, 0.0
        if reason is None:
            # "auto" first: when it reproduces the model, no fp32 copy is built at all.
            for weights in ("auto", "none") if self.quantization == "auto" else ("none",):
                decoder = LlamaDecoder(model, weights)
                candidate = _DecodeWorker(model, self.max_batch_size, self.num_threads, decoder)
                try:
                    error = _check_against_reference(candidate, probe, reference, 1e-3)
                except FailedPrecondition as refused:
                    reason = str(refused)
                    logger.warning("%s: the lean decoder with %s weights: %s", self.source, weights, reason)
                    continue
                worker = candidate
                break
        if worker is None:
            if self.quantization == "int4":
                raise FailedPrecondition(f"quantization {self.quantization} needs the lean decoder: {reason}")
            logger.info("%s: lean decoder not used (%s)", self.source, reason)
            return None
        if self.quantization == "int4":
            worker.decoder = decoder = LlamaDecoder(model, "int4")
            error = _logits_error(worker, probe, reference)
        _drop_decoder_layers(model)  # the decoder holds its own (packed) copies
        logger.info(
            "%s: lean Llama decoder, quantization %s (%s), %s decode attention"
            " (weights off the 4-bit grid by %.3g, changed by %.3g; logits by %.3g)",
            self.source,
            self.quantization,
            decoder.linear_kinds(),
            "native" if decoder.native_attention else "torch-ops",
            decoder.int4_grid_error,
            decoder.int4_error,
            error,
        )
        return worker


def _drop_decoder_layers(model: PreTrainedModel) -> None:
    """Frees the HF copies of the attention and MLP weights once the lean decoder has packed its own."""
    for layer in model.model.layers:  # type: ignore[union-attr]
        layer.self_attn = nn.Identity()
        layer.mlp = nn.Identity()


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
    worker: _DecodeWorker, probe: list[int], reference: torch.Tensor, tolerance: float
) -> float:
    """Runs the probe through the worker's path; refuses models whose logits it cannot reproduce, and
    returns the difference otherwise.

    `tolerance` is relative to the largest logit: 1e-3 for fp32, 5e-2 for bf16/fp16 arithmetic.
    """
    try:
        error = _logits_error(worker, probe, reference)
    except Exception as exc:
        raise FailedPrecondition(
            f"model not supported by the batched decoder: {type(exc).__name__}: {exc}"
        ) from exc
    if error > tolerance * (1.0 + float(reference.abs().max())):
        raise FailedPrecondition(
            f"model not supported by the batched decoder: its logits differ from transformers' by {error:.3g}"
        )
    return error


def _logits_error(worker: _DecodeWorker, probe: list[int], reference: torch.Tensor) -> float:
    """Largest difference between the worker's logits for the probe (prefill, one step) and HF's."""
    kv = SequenceKV()
    with torch.inference_mode():
        first = worker._forward([kv], [probe[:-1]])[0]
        second = worker._forward([kv], [probe[-1:]])[0]
    return float((torch.stack([first, second]) - reference).abs().max())
