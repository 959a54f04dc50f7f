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

# Run in a fresh process, sampling its file-backed resident memory (the checkpoint's pages, beside the
# libraries') through the load: the whole-process peak also moves with the allocator's heap, which
# varies from run to run, while the question here is the checkpoint's pages alone.
LOAD = """
import asyncio, json, re, sys, threading, time
from autoglm_core.backends.transformers_backend import TransformersBackend

def status(key):
    return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024

highest = [0]
def sample():
    while True:
        highest[0] = max(highest[0], status("RssFile"))
        time.sleep(0.002)

async def main():
    backend = TransformersBackend(sys.argv[1], name="default", kv_cache_mb=64)
    before = status("RssFile")
    threading.Thread(target=sample, daemon=True).start()
    await backend.load()
    print(json.dumps({"file_before": before, "file_peak": highest[0], "file_after": status("RssFile")}))
    await backend.close()

asyncio.run(main())
"""


def test_the_load_never_holds_the_whole_fp32_checkpoint() -> None:
    source = resolve_model_source("openautoglm-base-v1")
    checkpoint = sum(path.stat().st_size for path in Path(source).glob("*.safetensors"))
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(source)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    memory = json.loads(done.stdout.strip().splitlines()[-1])
    # The reference pass and the packing read every layer, but each layer's pages go once read: at
    # most the embedding table (read by the pass and by the tied head's packing) and a layer or two
    # are resident at once, a fraction of the file. Before, the whole file was.
    assert memory["file_peak"] - memory["file_before"] < checkpoint // 2, (memory, checkpoint)
    assert memory["file_after"] - memory["file_before"] < checkpoint // 4, (memory, checkpoint)
