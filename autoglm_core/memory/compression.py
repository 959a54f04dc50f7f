"""LZ4 for stored knowledge text: fast enough to decompress on every search, ~2x on prose.

Short texts often do not shrink (the frame header costs ~20 bytes), so they are stored raw; the
codec is recorded per row so either can be read back.
"""

from __future__ import annotations

import lz4.frame  # type: ignore[import-untyped]

LZ4 = "lz4"
RAW = "raw"


def pack(text: str) -> tuple[str, bytes]:
    """(codec, stored bytes) for text."""
    raw = text.encode("utf-8")
    packed: bytes = lz4.frame.compress(raw, content_checksum=True)
    if len(packed) < len(raw):
        return LZ4, packed
    return RAW, raw


def unpack(codec: str, data: bytes) -> str:
    if codec == LZ4:
        raw: bytes = lz4.frame.decompress(data)
        return raw.decode("utf-8")
    if codec == RAW:
        return data.decode("utf-8")
    raise ValueError(f"unknown codec {codec!r}")
