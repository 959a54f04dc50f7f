"""Loading the default model never holds its whole fp32 checkpoint in memory at once.

The checkpoint is the GGUF file de-quantized to fp32 (four times the 4-bit weights the server keeps).
The load reads all of it (the reference pass of the load check, packing into the kernels' blocks), and
without handing pages back as it goes its peak was several times the server's memory afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autoglm_core.models.default_model import resolve_model_source

pytestmark = pytest.mark.model

# Run in a fresh process: its peak resident memory (VmHWM) is then the load's alone.
LOAD = """
import asyncio, json, re, sys
from autoglm_core.backends.transformers_backend import TransformersBackend

def status(key):
    return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024

async def main():
    backend = TransformersBackend(sys.argv[1], name="default", kv_cache_mb=64)
    before = status("VmRSS")
    open("/proc/self/clear_refs", "w").write("5")  # the peak from here on
    await backend.load()
    print(json.dumps({"before": before, "peak": status("VmHWM"), "after": status("VmRSS")}))
    await backend.close()

asyncio.run(main())
"""


def test_the_load_peaks_below_the_fp32_checkpoint_over_what_it_keeps() -> None:
    source = resolve_model_source("openautoglm-base-v1")
    checkpoint = sum(path.stat().st_size for path in Path(source).glob("*.safetensors"))
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(source)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    memory = json.loads(done.stdout.strip().splitlines()[-1])
    growth = memory["peak"] - memory["before"]
    # The load keeps 4-bit layers and an 8-bit head (about a fifth of the checkpoint) and may read
    # the checkpoint, but never holds all of it: the peak's growth stays under the file's size.
    assert growth < checkpoint, (memory, checkpoint)
    assert memory["after"] < memory["peak"]
