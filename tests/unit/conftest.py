"""Fixtures for the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def fresh_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Native kernels looked up from scratch, built into an empty cache directory; the usual ones after."""
    # torch only where a test asks
    from autoglm_core.kernels import native_attention, native_decoder, native_linear

    def forget() -> None:
        native_attention._library.cache_clear()
        native_linear._library.cache_clear()
        native_decoder._functions.cache_clear()

    monkeypatch.setenv("AUTOGLM_CACHE_DIR", str(tmp_path))
    forget()
    yield
    forget()
