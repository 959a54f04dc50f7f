"""LZ4 for stored knowledge text: fast enough to decompress on every search, ~2x on prose.

Short texts often do not shrink (the frame header costs ~20 bytes), so they are stored raw; the
codec is recorded per row so either can be read back.
"""

from __future__ import annotations

import lz4.frame  # type: ignore[import-untyped]

from autoglm_core.errors import DataLoss

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
    """The stored text; DataLoss when the bytes are damaged (a checksum or UTF-8 failure)."""
    try:
        if codec == LZ4:
            raw: bytes = lz4.frame.decompress(data)
            return raw.decode("utf-8")
        if codec == RAW:
            return data.decode("utf-8")
    except (RuntimeError, UnicodeDecodeError) as error:
        raise DataLoss(f"a stored knowledge text is damaged: {error}") from None
    raise DataLoss(f"a stored knowledge text has an unknown codec {codec!r}")
