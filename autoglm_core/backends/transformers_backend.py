"""The real backend: a Hugging Face causal LM served through the runtime.

Loading picks the runner: on CPU, Llama-family models (llama, mistral, qwen2) run through the lean
decoder (runtime/runners/llama_decoder.py), which computes with a quantized GGUF's own 4/8-bit blocks
(`quantization="auto"`, the default; see kernels/linear_kernels.py); other models run through
transformers' own forward with the ragged attention of ragged.py. Either path is checked against
transformers' logits at load (runtime/load_check.py). On CUDA (or with `runner="paged"`) models run
through the paged runner (runtime/runners/paged/): one block pool for every sequence's keys and values,
batched attention, decode steps replayed as CUDA graphs. The scheduler and step loop are the runtime's.

Why not transformers' ContinuousBatchingManager: measured on this 2-core CPU with SmolLM2-135M and 64
new tokens, `model.generate_batch` (its manager) gave 2.3-3.9 tok/s for one request and 27-29 tok/s
for 16 (its paged SDPA path is slow on CPU); the runtime's loop is several times faster, while requests
join, leave and are cancelled at any step, each with its own sampling, seed, EOS and logprobs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel

from autoglm_core.adapters.shapes import BaseShapes
from autoglm_core.adapters.store import AdapterStore
from autoglm_core.backends.base import BackendRequest, ModelInfo, TokenChunk
from autoglm_core.backends.hf_loading import (
    default_sampling,
    default_threads,
    eos_ids,
    in_fresh_thread,
    load_sync,
    resolve_device,
    resolve_dtype,
)
from autoglm_core.backends.hf_tokenizer import HFChatTokenizer
from autoglm_core.backends.load_memory import pages_released_after, release_pages, return_freed_heap
from autoglm_core.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound, NotReady
from autoglm_core.kernels.linear_kernels import QUANTIZATIONS, can_pack, pack_linears
from autoglm_core.runtime.kv_cache import KVCacheManager
from autoglm_core.runtime.load_check import check_against_reference, logits_error, reference_logits
from autoglm_core.runtime.runners.llama_decoder import LlamaDecoder, unsupported_reason
from autoglm_core.runtime.runners.paged.check import check_paged
from autoglm_core.runtime.runners.paged.runner import PagedRunner
from autoglm_core.runtime.runners.paged.runner import unsupported_reason as paged_unsupported_reason
from autoglm_core.runtime.runners.prefix_cache import PrefixCache
from autoglm_core.runtime.runners.ragged import RAGGED_ATTENTION
from autoglm_core.runtime.runners.torch_runner import TorchRunner
from autoglm_core.runtime.scheduler import Scheduler, SchedulerConfig
from autoglm_core.runtime.step_loop import StepLoop

logger = logging.getLogger(__name__)

BACKEND_NAME = "transformers"
# Tokens per KV-cache block in the scheduler's accounting.
KV_BLOCK_TOKENS = 16
# "auto": the paged runner on CUDA, the CPU runners otherwise; "paged" forces it (tests on CPU);
# "torch": the lean decoder or transformers' forward with ragged attention, whatever the device.
RUNNERS = ("auto", "paged", "torch")


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
        scheduler: SchedulerConfig | None = None,
        kv_cache_mb: int = 1024,
        num_threads: int | None = None,
        load_timeout_s: float = 900.0,
        ignore_eos: bool = False,
        quantization: str = "auto",
        prefix_cache_mb: int = 0,
        max_resident_adapters: int = 8,
        runner: str = "auto",
    ) -> None:
        if runner not in RUNNERS:
            raise InvalidArgument.one("runner", f"must be one of {', '.join(RUNNERS)}")
        self.runner_choice = runner
        if quantization not in QUANTIZATIONS:
            raise InvalidArgument.one("quantization", f"must be one of {', '.join(QUANTIZATIONS)}")
        # "auto": the weights as a quantized GGUF holds them, where the native kernel can; "int4": 4-bit
        # weights whatever the model (lossy off a Q4 file); see linear_kernels.make_linear.
        self.quantization = quantization
        # Keys and values of shared prompt prefixes kept for reuse (prefix_cache.py); 0 = none.
        self.prefix_cache_mb = prefix_cache_mb
        # LoRA adapters kept in memory at once (more may be registered: idle ones are evicted).
        self.max_resident_adapters = max_resident_adapters
        # The adapters of this version; None before load, or where the runner cannot apply them.
        self.adapters: AdapterStore | None = None
        self.source = str(source)
        self.name, self.version = name, version
        self._device_name, self._dtype_name = device, dtype
        self.scheduler_config = scheduler or SchedulerConfig()
        # The KV cache's budget: the scheduler admits and preempts so that it is never exceeded.
        self.kv_cache_mb = kv_cache_mb
        self.num_threads = num_threads or default_threads()
        self.load_timeout_s = load_timeout_s
        # For benchmarks: always generate max_new_tokens.
        self.ignore_eos = ignore_eos
        self._model: PreTrainedModel | None = None
        self._tokenizer: HFChatTokenizer | None = None
        self._info: ModelInfo | None = None
        self._runner: TorchRunner | PagedRunner | None = None
        self._loop: StepLoop | None = None
        self._load_lock = asyncio.Lock()
        self._load_abandoned = False

    @property
    def prefix_cache(self) -> PrefixCache | None:
        """The cache of prompt prefixes (None when off or not loaded)."""
        return self._runner.prefix_cache if isinstance(self._runner, TorchRunner) else None

    @property
    def runner(self) -> TorchRunner | PagedRunner | None:
        return self._runner

    @property
    def step_loop(self) -> StepLoop | None:
        return self._loop

    @property
    def current_batch_size(self) -> int:
        """Requests in the batch now (for metrics and tests)."""
        return self._loop.batch_size if self._loop is not None else 0

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
            if self._loop is not None:
                return
            self._load_abandoned = False
            try:
                await asyncio.wait_for(in_fresh_thread(self._load_blocking), timeout=self.load_timeout_s)
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
        return self._loop is not None and self._loop.alive

    async def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.stop()
            await loop.join()
        self._model = self._runner = None

    def admit(self) -> None:
        if self._loop is not None:
            self._loop.admit()

    async def generate(self, request: BackendRequest) -> AsyncGenerator[TokenChunk, None]:
        loop, info = self._loop, self._info
        if loop is None or info is None or not loop.alive:
            raise NotReady(f"model {self.name} is not loaded")
        prompt_len = len(request.prompt_ids)
        if prompt_len >= info.context_length:
            raise InvalidArgument.one(
                "prompt_ids",
                f"the prompt has {prompt_len} tokens; the context length is {info.context_length}",
            )
        if request.sampling.max_new_tokens < 1:
            raise InvalidArgument.one("sampling.max_new_tokens", "must be at least 1")
        max_new = min(request.sampling.max_new_tokens, info.context_length - prompt_len)
        eos = () if self.ignore_eos else info.eos_token_ids
        if not request.adapter:
            async with aclosing(loop.generate(request, max_new, eos)) as chunks:
                async for chunk in chunks:
                    yield chunk
            return
        # Never the base model in an adapter's place: unknown or unloaded is NOT_FOUND.
        store = self.adapters
        if store is None:
            raise NotFound("adapter", f"{self.name}@{self.version}:{request.adapter}")
        await store.acquire(request.adapter)
        generated = 0
        try:
            async with aclosing(loop.generate(request, max_new, eos)) as chunks:
                async for chunk in chunks:
                    generated += len(chunk.token_ids)
                    yield chunk
        finally:
            store.release(request.adapter, generated)

    # -- loading ---------------------------------------------------------------------------------

    def _load_blocking(self) -> None:
        device = resolve_device(self._device_name)
        dtype = resolve_dtype(self._dtype_name, device)
        fast_kernels = can_pack(device, dtype)
        if self.quantization == "int4" and not fast_kernels:
            raise FailedPrecondition(
                f"quantization {self.quantization} runs on CPU with a float32 model; "
                f"this load is {device} / {dtype}"
            )
        if device.type == "cpu":
            torch.set_num_threads(self.num_threads)
        model, hf_tokenizer = load_sync(self.source, device, dtype)
        tokenizer = HFChatTokenizer(hf_tokenizer)
        probe = (tokenizer.encode("The quick brown fox jumps over the lazy dog.") or [0, 1, 2, 3])[:8]
        # A layer's checkpoint pages go as soon as the reference pass is through it (the second pass,
        # one step, reads them again from the page cache): the whole fp32 file is never resident.
        with pages_released_after(model):
            reference = reference_logits(model, probe)
        runner: TorchRunner | PagedRunner | None = None
        if self.runner_choice == "paged" or (self.runner_choice == "auto" and device.type == "cuda"):
            runner = self._paged_runner(model, dtype, probe, reference)
        elif fast_kernels:
            runner = self._lean_runner(model, probe, reference)
        if runner is None:
            packed = pack_linears(model) if fast_kernels else 0
            model.set_attn_implementation(RAGGED_ATTENTION)
            runner = TorchRunner(model, num_threads=self.num_threads)
            check_against_reference(runner, probe, reference, 1e-3 if dtype == torch.float32 else 5e-2)
            logger.info("%s: transformers forward pass, %d packed linear layers", self.source, packed)
        if self.prefix_cache_mb > 0 and isinstance(runner, TorchRunner):
            runner.prefix_cache = PrefixCache(self.prefix_cache_mb << 20)
        adapters = None
        # Per-row LoRA deltas live in the lean decoder's pass (not in the paged runner's).
        if isinstance(runner, TorchRunner) and runner.decoder is not None:
            label = f"{self.name}@{self.version}"
            adapters = AdapterStore(BaseShapes.of(model.config), self.max_resident_adapters, label)
            runner.adapters = adapters.weights
        template = tokenizer.chat_template_text
        text_config = model.config.get_text_config()
        self._info = ModelInfo(
            name=self.name,
            version=self.version,
            backend=BACKEND_NAME,
            source=self.source,
            context_length=int(getattr(text_config, "max_position_embeddings", 0) or 2048),
            eos_token_ids=eos_ids(model, hf_tokenizer),
            device=str(device),
            supports_thinking="enable_thinking" in template or "<think>" in template,
            default_sampling=default_sampling(model),
        )
        if self._load_abandoned:  # load() gave up waiting (timeout): do not come alive behind its back
            return
        self._model, self._tokenizer = model, tokenizer
        logger.info("loaded %s on %s (%s, quantization %s)", self.source, device, dtype, self.quantization)
        return_freed_heap()
        kv = KVCacheManager(_kv_blocks(model, dtype, self.kv_cache_mb), KV_BLOCK_TOKENS)
        scheduling = replace(self.scheduler_config, attention_context=attention_context(model))
        loop = StepLoop(Scheduler(scheduling, kv), runner, name="autoglm-step")
        loop.start()
        self._runner, self._loop, self.adapters = runner, loop, adapters

    def _paged_runner(
        self, model: PreTrainedModel, dtype: torch.dtype, probe: list[int], reference: torch.Tensor
    ) -> PagedRunner | None:
        """The paged runner over as many blocks as the scheduler accounts, or None where it cannot serve
        the model (forced with `runner="paged"`, that is an error). Prefix reuse shares the pool's blocks,
        so it needs no budget of its own: `prefix_cache_mb` > 0 turns it on."""
        reason = paged_unsupported_reason(model)
        if reason is None:
            runner = PagedRunner(
                model,
                _kv_blocks(model, dtype, self.kv_cache_mb),
                KV_BLOCK_TOKENS,
                prefix_reuse=self.prefix_cache_mb > 0,
                num_threads=self.num_threads,
            )
            try:
                error = check_paged(runner, probe, reference, 1e-3 if dtype == torch.float32 else 5e-2)
            except FailedPrecondition as refused:
                reason = str(refused)
            else:
                logger.info(
                    "%s: paged runner (CUDA graphs %s), logits off by %.3g",
                    self.source,
                    runner.use_graphs,
                    error,
                )
                return runner
        if self.runner_choice == "paged":
            raise FailedPrecondition(f"runner paged: {reason}")
        logger.info("%s: paged runner not used (%s)", self.source, reason)
        return None

    def _lean_runner(
        self, model: PreTrainedModel, probe: list[int], reference: torch.Tensor
    ) -> TorchRunner | None:
        """A runner on the lean Llama decoder, or None where it does not cover or reproduce the model.

        The decoder must reproduce transformers' logits within fp32's tolerance, which checks the
        architecture. "auto" keeps the weights exactly, so it is held to that tolerance directly (no fp32
        copy built; fp32 is tried if it misses). int4 is built once fp32 passed, and how far its logits
        move is logged, not refused: the weights' rounding is the user's choice.
        """
        reason = unsupported_reason(model)
        runner, error = None, 0.0
        if reason is None:
            # "auto" first: when it reproduces the model, no fp32 copy is built at all.
            for weights in ("auto", "none") if self.quantization == "auto" else ("none",):
                decoder = LlamaDecoder(model, weights, on_packed=_let_go)
                candidate = TorchRunner(model, decoder, self.num_threads)
                try:
                    error = check_against_reference(candidate, probe, reference, 1e-3)
                except FailedPrecondition as refused:
                    reason = str(refused)
                    logger.warning("%s: the lean decoder with %s weights: %s", self.source, weights, reason)
                    continue
                runner = candidate
                break
        if runner is None:
            if self.quantization == "int4":
                raise FailedPrecondition(f"quantization {self.quantization} needs the lean decoder: {reason}")
            logger.info("%s: lean decoder not used (%s)", self.source, reason)
            return None
        if self.quantization == "int4":
            runner.decoder = decoder = LlamaDecoder(model, "int4", on_packed=_let_go)
            error = logits_error(runner, probe, reference)
        _drop_decoder_layers(model, decoder)  # the decoder holds its own (packed) copies
        logger.info(
            "%s: lean Llama decoder, quantization %s (%s), %s decode attention, %s decode steps"
            " (weights off the 4-bit grid by %.3g, changed by %.3g; logits by %.3g)",
            self.source,
            self.quantization,
            decoder.linear_kinds(),
            "native" if decoder.native_attention else "torch-ops",
            "fused native" if decoder.fused is not None else "per-layer",
            decoder.int4_grid_error,
            decoder.int4_error,
            error,
        )
        return runner


def _drop_decoder_layers(model: PreTrainedModel, decoder: LlamaDecoder) -> None:
    """Frees the HF copies of the attention and MLP weights once the lean decoder has packed its own,
    and the embedding table (with the output head tied to it) where the decoder embeds from its head.

    The weights left (embedding, norms) are copied out of the checkpoint file: while a tensor points
    into it, the whole file stays mapped, and every page the load read counts as the server's memory.
    """
    inner: Any = model.model
    for layer in inner.layers:
        layer.self_attn = nn.Identity()
        layer.mlp = nn.Identity()
    if decoder.embed is not inner.embed_tokens:
        inner.embed_tokens = nn.Identity()
        model.lm_head = nn.Identity()  # type: ignore[assignment]
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            tensor.data = tensor.data.clone()


def _kv_blocks(model: PreTrainedModel, dtype: torch.dtype, budget_mb: int) -> int:
    """KV-cache blocks that fit in `budget_mb`: keys and values of every layer, per token."""
    config = model.config.get_text_config()
    heads = int(config.num_attention_heads)
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
    per_token = 2 * int(config.num_hidden_layers) * kv_heads * head_dim * torch.finfo(dtype).bits // 8
    return max(1, (budget_mb << 20) // (per_token * KV_BLOCK_TOKENS))


def attention_context(model: PreTrainedModel) -> int:
    """The context length at which a token's attention costs as many operations as its pass through
    the layers' weights: about 4 * layers * heads * head_dim per context token against twice the
    layers' weights."""
    config = model.config.get_text_config()
    hidden = int(config.hidden_size)
    heads = int(config.num_attention_heads)
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(config, "head_dim", None) or hidden // heads)
    intermediate = int(getattr(config, "intermediate_size", None) or 4 * hidden)
    attention = hidden * (heads + 2 * kv_heads) * head_dim + heads * head_dim * hidden
    weights = attention + 3 * hidden * intermediate  # and the MLP's gate, up and down
    return max(1, weights // (2 * heads * head_dim))


def _let_go(module: nn.Module) -> None:
    """Once the lean decoder has packed a module's weights: its checkpoint pages and the packing's
    temporaries go back to the system, so a load peaks near one layer's worth above what it keeps."""
    release_pages(module.parameters())
    return_freed_heap()
