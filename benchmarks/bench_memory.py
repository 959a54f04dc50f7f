"""Benchmark of the user and memory stores: LZ4 compression ratio, write and search latency.

    python benchmarks/bench_memory.py                       # SQLite file in a temp dir
    python benchmarks/bench_memory.py --embedder minilm     # also time embedding search
    python benchmarks/bench_memory.py --database-url postgresql+psycopg://u:p@127.0.0.1/db

The knowledge corpus is the text of this repository (docs, protos, Python sources) cut into
paragraphs, plus whole files as long documents, so the compression figures are for real prose and
code rather than repeated strings. Writes one JSON report (stdout, and --out).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autoglm_core.memory import compression  # noqa: E402
from autoglm_core.memory.embedding import make_embedder  # noqa: E402
from autoglm_core.memory.knowledge import MAX_TEXT_BYTES, KnowledgeStore  # noqa: E402
from autoglm_core.memory.sessions import SessionStore  # noqa: E402
from autoglm_core.storage.database import Database, resolve_url  # noqa: E402
from autoglm_core.users.store import UserStore  # noqa: E402

BUCKETS = [("short (<256 B)", 0, 256), ("medium (256 B-4 KiB)", 256, 4096), ("long (>=4 KiB)", 4096, 1 << 40)]
QUERIES = [
    "how does the server report a full queue",
    "continuous batching in transformers",
    "API key authentication and admin users",
    "thinking mode reasoning parser",
    "knowledge cache compression",
    "graceful shutdown and health checks",
]


def corpus(limit: int) -> list[str]:
    """Paragraphs and whole files of this repository's text sources."""
    files = sorted(
        p
        for pattern in ("*.md", "*.proto", "*.py")
        for p in ROOT.rglob(pattern)
        if not any(part.startswith(".") or part in ("node_modules", "v1") for part in p.parts)
    )
    texts: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        texts.extend(p.strip() for p in text.split("\n\n") if len(p.strip()) >= 40)
        if 4096 <= len(text.encode()) <= MAX_TEXT_BYTES:
            texts.append(text)
    return texts[:limit]


def compression_report(texts: list[str]) -> dict[str, Any]:
    rows = []
    for text in texts:
        codec, data = compression.pack(text)
        rows.append((len(text.encode()), len(data), codec))
    report: dict[str, Any] = {}
    for name, low, high in BUCKETS:
        bucket = [r for r in rows if low <= r[0] < high]
        if bucket:
            raw, stored = sum(r[0] for r in bucket), sum(r[1] for r in bucket)
            report[name] = {
                "entries": len(bucket),
                "raw_bytes": raw,
                "stored_bytes": stored,
                "ratio": round(raw / stored, 3),
                "stored_raw_share": round(sum(1 for r in bucket if r[2] == compression.RAW) / len(bucket), 3),
            }
    raw, stored = sum(r[0] for r in rows), sum(r[1] for r in rows)
    report["all"] = {
        "entries": len(rows),
        "raw_bytes": raw,
        "stored_bytes": stored,
        "ratio": round(raw / stored, 3),
    }
    return report


def latency(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


async def timed(calls: list[Callable[[], Awaitable[Any]]]) -> list[float]:
    out = []
    for call in calls:
        start = time.perf_counter()
        await call()
        out.append(time.perf_counter() - start)
    return out


async def concurrent_rate(calls: list[Callable[[], Awaitable[Any]]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(c() for c in calls))
    return round(len(calls) / (time.perf_counter() - start), 1)


async def bench_users(database: Database, n: int) -> dict[str, Any]:
    users = UserStore(database)
    created = []

    async def create(i: int) -> None:
        created.append(await users.create(f"bench user {i}", i % 150))

    sequential = await timed([functools.partial(create, i) for i in range(n)])
    rate = await concurrent_rate([functools.partial(users.create, f"c{i}", 1) for i in range(n)])
    _, secret = await users.create_key(created[0].user_id)
    auth = await timed([lambda: users.authenticate(secret) for _ in range(n)])
    return {
        "create_user": latency(sequential),
        "create_user_concurrent_per_s": rate,
        "authenticate": latency(auth),
    }


async def bench_sessions(database: Database, turns: int) -> dict[str, Any]:
    sessions = SessionStore(database)
    turn = [
        {"role": "user", "content": "What is the weather like?"},
        {"role": "assistant", "content": "Sunny."},
    ]
    append = await timed([lambda: sessions.append("bench", "s", turn) for _ in range(turns)])
    history = await timed([lambda: sessions.history("bench", "s", 256) for _ in range(50)])
    return {"append_turn": latency(append), f"history_of_{2 * turns}_messages": latency(history)}


async def bench_knowledge(
    database: Database, texts: list[str], embedder_kind: str, user: str
) -> dict[str, Any]:
    store = KnowledgeStore(database, make_embedder(embedder_kind))
    try:
        if store.embedder_name != "lexical":  # load the model outside the timings
            await store.add("warmup", "warm up")
        add = await timed([functools.partial(store.add, user, t) for t in texts])
        search = await timed([functools.partial(store.search, user, q, 5) for q in QUERIES * 5])
        top = {
            q: [(m.text[:60], round(s, 3)) for m, s in await store.search(user, q, 3)] for q in QUERIES[:3]
        }
        stats = await store.stats()
        return {
            "embedder": store.embedder_name,
            "entries": len(texts),
            "add": latency(add),
            "search_top5": latency(search),
            "stored_compression_ratio": round(stats.raw_bytes / max(stats.stored_bytes, 1), 3),
            "examples": top,
        }
    finally:
        store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="SQLAlchemy URL; default: SQLite in a temp dir")
    parser.add_argument("--embedder", default="lexical", help="lexical, minilm, or both")
    parser.add_argument("--entries", type=int, default=500, help="knowledge entries to add")
    parser.add_argument("--users", type=int, default=200, help="users to create")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_memory.json")
    args = parser.parse_args()
    texts = corpus(args.entries)
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(resolve_url(args.database_url, tmp))
        try:
            report: dict[str, Any] = {
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "database": database.engine.dialect.name,
                "compression": compression_report(texts),
                "users": await bench_users(database, args.users),
                "sessions": await bench_sessions(database, 200),
                "knowledge": {},
            }
            kinds = ["lexical", "minilm"] if args.embedder == "both" else [args.embedder]
            for kind in kinds:
                report["knowledge"][kind] = await bench_knowledge(database, texts, kind, f"bench-{kind}")
        finally:
            database.close()
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
