"""Builds the small C kernels (native_*.c) with the system C compiler, once per machine.

A kernel is compiled into `<model cache>/kernels/<name>-<hash>.so`, keyed by a hash of its source,
the flags and the compiler's version, so a machine compiles it once (about a second) and a cache
shared between machines never hands one a library built for another CPU.

OpenMP kernels link libgomp by its soname; torch's CPU wheels load their own libgomp.so.1 first, so
the kernel's threads are torch's threads (one pool, no oversubscription). Where the compiler has no
OpenMP, the kernel is built without it and runs on one thread.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch

from autoglm_core.models.default_model import default_cache_dir

logger = logging.getLogger(__name__)


def load(
    source: Path, symbol: str, argtypes: list[Any], *, switch: str, openmp: bool = False
) -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """The kernel's C function `symbol` (returning int), or None where environment variable `switch` is
    set or no compiler works (logged): the caller then falls back to torch."""
    functions = load_functions(source, {symbol: argtypes}, switch=switch, openmp=openmp)
    return None if functions is None else functions[symbol]


def load_functions(
    source: Path,
    signatures: dict[str, list[Any]],
    *,
    switch: str,
    openmp: bool = False,
    with_sources: tuple[Path, ...] = (),
) -> dict[str, ctypes._CFuncPtr] | None:  # type: ignore[name-defined]
    """As `load`, for several functions of one library (built once): symbol -> function. `with_sources`:
    other C files compiled into the same library (kernels whose functions `source` calls)."""
    if os.environ.get(switch):
        return None
    try:
        path = build(source, openmp=openmp, with_sources=with_sources)
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", None) or ""
        logger.warning("%s unavailable, torch will do its work: %s %s", source.name, error, detail)
        return None
    library = ctypes.CDLL(str(path))
    functions = {}
    for symbol, argtypes in signatures.items():
        function = getattr(library, symbol)
        function.restype = ctypes.c_int
        function.argtypes = argtypes
        functions[symbol] = function
    return functions


def build(source: Path, *, openmp: bool = False, with_sources: tuple[Path, ...] = ()) -> Path:
    """The compiled shared library of `source` and `with_sources` (building it if needed); raises
    OSError or subprocess.SubprocessError when no compiler works."""
    sources = (source, *with_sources)
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        raise OSError(f"no C compiler {compiler!r} on PATH")
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30, check=True)
    flags = _flags()
    if openmp:
        try:
            return _compile(compiler, version.stdout, sources, [*flags, "-fopenmp"])
        except subprocess.CalledProcessError as error:
            logger.warning(
                "%s: no OpenMP from %s, building it single-threaded: %s", source.name, compiler, error.stderr
            )
    return _compile(compiler, version.stdout, sources, flags)


def _flags() -> list[str]:
    flags = ["-O3", "-shared", "-fPIC", "-std=gnu11", "-ffp-contract=fast"]
    # torch's own CPU detection decides the vector width; a cache shared between machines stays safe
    # because the flags are part of the file's name.
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        flags += ["-mavx2", "-mfma", "-mf16c"]
    return flags


def _compile(compiler: str, version: str, sources: tuple[Path, ...], flags: list[str]) -> Path:
    text = b"".join(source.read_bytes() for source in sources)
    key = hashlib.sha256(text + " ".join(flags).encode() + version.encode()).hexdigest()[:16]
    directory = default_cache_dir() / "kernels"
    target = directory / f"{sources[0].stem}-{key}.so"
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    # Compile beside the target and rename: another process may be building the same file.
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        built = Path(scratch) / target.name
        subprocess.run(
            [compiler, *flags, *map(str, sources), "-o", str(built), "-lm"],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        os.replace(built, target)
    logger.info("compiled %s into %s", " ".join(source.name for source in sources), target)
    return target
