"""Knowledge search with a large store: time per search and the event loop's longest stall.

    python benchmarks/bench_knowledge_search.py --entries 1000 --words 1400

One user gets `--entries` entries of `--words` words (~9 KB each with the defaults, words drawn from
this repository's README); then searches run while a 1 ms ticker measures how long the event loop
was kept from running (what every other call and health check on the server would wait).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoglm_core.memory.knowledge import KnowledgeStore
from autoglm_core.storage.database import Database

QUERIES = ["model server tokens", "knowledge cache search", "gRPC health checks"]


async def run(entries: int, words: int, rounds: int) -> dict[str, float]:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    vocabulary = [w for w in readme.split() if w.isalpha()]
    rng = random.Random(0)
    database = Database(f"sqlite:///{tempfile.mkdtemp(prefix='autoglm-kb-')}/k.db")
    database.ensure_schema()
    store = KnowledgeStore(database)
    started = time.perf_counter()
    for _ in range(entries):
        await store.add("u", " ".join(rng.choice(vocabulary) for _ in range(words)))
    add_ms = (time.perf_counter() - started) / entries * 1000
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    times = []
    for query in QUERIES * rounds:
        t = time.perf_counter()
        await store.relevant("u", query, 3)
        times.append(time.perf_counter() - t)
    ticking.cancel()
    store.close()
    database.close()
    times.sort()
    return {
        "entries": entries,
        "add_ms": round(add_ms, 1),
        "search_ms_p50": round(times[len(times) // 2] * 1000, 1),
        "search_ms_max": round(times[-1] * 1000, 1),
        "longest_loop_stall_ms": round(max(gaps) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--words", type=int, default=1400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.entries, args.words, args.rounds)), indent=2))


if __name__ == "__main__":
    main()
