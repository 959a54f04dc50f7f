"""load_memory.py: a checkpoint's pages are handed back only where that loses nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from autoglm_core.backends.load_memory import pages_released_after, release_pages

pytestmark = pytest.mark.torch

MIB = 1 << 20


def _mapped(path: Path) -> torch.Tensor:
    """A float tensor over a private mapping of a file, as transformers maps a safetensors checkpoint."""
    values = torch.arange(4 * MIB // 4, dtype=torch.float32)
    values.numpy().tofile(path)
    return torch.from_file(str(path), shared=False, size=values.numel(), dtype=torch.float32)


def _resident_kib(path: Path) -> int:
    """Resident kilobytes of this process's mappings of `path`."""
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                inside = line.rstrip().endswith(str(path))
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


def test_read_pages_of_a_mapped_file_go_back_and_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    tensor = _mapped(path)
    expected = float(tensor.sum())  # reads every page
    assert _resident_kib(path) >= 4 * 1024

    assert release_pages([tensor]) >= 4 * MIB
    assert _resident_kib(path) < 64
    assert float(tensor.sum()) == expected  # read back from the file


def test_a_written_page_keeps_the_tensor_resident(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    tensor = _mapped(path)
    tensor[12345] = -1.0  # a private copy of that page now holds what the file does not
    assert release_pages([tensor]) == 0
    assert float(tensor[12345]) == -1.0


def test_ordinary_memory_is_left_alone() -> None:
    tensor = torch.arange(MIB, dtype=torch.float32)
    assert release_pages([tensor]) == 0
    assert torch.equal(tensor, torch.arange(MIB, dtype=torch.float32))


def test_a_forward_pass_lets_each_layer_go_after_it(tmp_path: Path) -> None:
    layers = []
    for index in range(3):
        layer = torch.nn.Linear(512, 512, bias=False)
        path = tmp_path / f"layer{index}.bin"
        layer.weight.data = _mapped(path).reshape(-1, 512)[:512]
        layers.append((layer, path))
    model = torch.nn.Sequential(*(layer for layer, _ in layers))
    x = torch.ones(1, 512) / 512
    with torch.no_grad():
        expected = model(x)
        with pages_released_after(model):
            again = model(x)
        assert torch.equal(again, expected)
        assert all(_resident_kib(path) < 64 for _, path in layers)
        model(x)  # the hooks are gone: a pass outside the block keeps what it reads
        assert all(_resident_kib(path) >= 1024 for _, path in layers)
