"""Page sizes and opaque page tokens for List RPCs (keyset paging on a table's sequence number)."""

from __future__ import annotations

import base64
import binascii

from autoglm_core.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_PREFIX = "v1:"
# Sequence numbers are 64-bit signed integers in every database: a larger one is no token of ours.
MAX_SEQ = 2**63 - 1


def page_size(requested: int, field: str = "page.page_size") -> int:
    """0 means the default; more than MAX_PAGE_SIZE is refused rather than silently cut."""
    if requested < 0 or requested > MAX_PAGE_SIZE:
        raise InvalidArgument.one(field, f"must be between 0 and {MAX_PAGE_SIZE}")
    return requested or DEFAULT_PAGE_SIZE


def encode_token(after_seq: int) -> str:
    """A token that resumes after the row with this sequence number.

    Keyset paging (not offsets): rows added or deleted between pages neither repeat nor vanish.
    The token is opaque to clients; its format may change.
    """
    return base64.urlsafe_b64encode(f"{_PREFIX}{after_seq}".encode()).decode().rstrip("=")


def decode_token(token: str, field: str = "page.page_token") -> int:
    """The sequence number a token resumes after; 0 for the first page."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        value = int(text[len(_PREFIX) :])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument.one(field, "is not a token from a previous response") from None
    if not 0 <= value <= MAX_SEQ:
        raise InvalidArgument.one(field, "is not a token from a previous response")
    return value
