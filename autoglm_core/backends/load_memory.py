"""Keeping a model load's peak memory near what the server keeps afterwards.

transformers maps a safetensors checkpoint into memory, and every page the load reads (the reference
pass of the load check, packing weights into the kernels' blocks) stays resident, counted as the
server's memory, until the mapping goes. For a model packed into 4-bit blocks that is the whole fp32
file at once, several times what the server keeps. `release_pages` hands a layer's pages back once
it has been read: the page cache still holds them, so reading one again costs a page fault, not a
disk read.

Packing also frees many large temporaries. glibc keeps freed memory in its arenas for reuse, so the
load would otherwise peak at every temporary it ever made; `return_freed_heap` hands it back.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import struct
from collections.abc import Iterable, Iterator

import torch
from torch import nn

_MADV_DONTNEED = 4
_PAGE = mmap.PAGESIZE
# /proc/self/pagemap, 8 bytes a page: bit 63 present, bit 62 swapped, bit 61 file page (a page of
# a private file mapping that was written is an anonymous copy: present, not a file page).
_PRESENT, _SWAPPED, _FILE_PAGE = 1 << 63, 1 << 62, 1 << 61


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not glibc (musl, macOS): nothing to hand back this way
        return None
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return libc


_LIBC = _libc()


def return_freed_heap() -> None:
    """Hands memory that the process has freed back to the system (glibc's malloc_trim)."""
    if _LIBC is not None:
        with contextlib.suppress(AttributeError):
            _LIBC.malloc_trim(0)


def release_pages(tensors: Iterable[torch.Tensor], mappings: list[tuple[int, int]] | None = None) -> int:
    """Drops the resident pages of tensors that live in a file mapping with none of their pages
    written, so that only a later read brings them back; returns the bytes released. Tensors in
    ordinary (anonymous) memory, or with a written page, are left alone: dropping those would lose
    their contents. `mappings`: the file mappings (`file_mappings()`) when the caller has them."""
    if _LIBC is None:
        return 0
    if mappings is None:
        mappings = file_mappings()
    released = 0
    for tensor in tensors:
        span = _page_span(tensor)
        if span is None or not any(start <= span[0] and span[1] <= end for start, end in mappings):
            continue
        if _only_file_pages(*span) and _LIBC.madvise(span[0], span[1] - span[0], _MADV_DONTNEED) == 0:
            released += span[1] - span[0]
    return released


@contextlib.contextmanager
def pages_released_after(model: nn.Module) -> Iterator[None]:
    """Within the block, every module of `model` that holds parameters of its own releases them
    (release_pages) after each of its forward calls: a pass through the model then keeps about one
    layer's weights resident, whatever the architecture."""
    if _LIBC is None:  # nothing can be released here
        yield
        return
    mappings = file_mappings()  # the checkpoint's mapping stays put while the block runs

    def after_forward(module: nn.Module, *_: object) -> None:
        release_pages(module.parameters(recurse=False), mappings)

    holders = [m for m in model.modules() if next(m.parameters(recurse=False), None) is not None]
    hooks = [module.register_forward_hook(after_forward) for module in holders]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


def _page_span(tensor: torch.Tensor) -> tuple[int, int] | None:
    """The whole pages a CPU tensor's storage touches, or None for an empty or non-CPU tensor."""
    if tensor.device.type != "cpu":
        return None
    storage = tensor.untyped_storage()
    start, size = storage.data_ptr(), storage.nbytes()
    if size == 0:
        return None
    return start - start % _PAGE, -(-(start + size) // _PAGE) * _PAGE


def file_mappings() -> list[tuple[int, int]]:
    """Address ranges of this process's mappings of regular files."""
    ranges = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith("/") and fields[4] != "0":
                    low, high = fields[0].split("-")
                    ranges.append((int(low, 16), int(high, 16)))
    except OSError:  # no /proc (not Linux): no mapping is known, so nothing is released
        return []
    return ranges


def _only_file_pages(start: int, end: int) -> bool:
    """Whether no page in [start, end) is a written (anonymous) copy or swapped out."""
    pages = (end - start) // _PAGE
    try:
        fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    except OSError:
        return False
    try:
        data = os.pread(fd, pages * 8, start // _PAGE * 8)
    finally:
        os.close(fd)
    if len(data) != pages * 8:
        return False
    for (entry,) in struct.iter_unpack("<Q", data):
        if entry & _SWAPPED or (entry & _PRESENT and not entry & _FILE_PAGE):
            return False
    return True
