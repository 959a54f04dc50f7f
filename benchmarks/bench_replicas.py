"""Replicas sharing PostgreSQL: unary Generate/s on the mock backend with 1, 2 and 3 replicas behind
one round-robin client, and what the database costs per Generate (from pg_stat_statements).

    python benchmarks/bench_replicas.py --requests 2000 --concurrency 32
    python benchmarks/bench_replicas.py --database-url postgresql+psycopg://...   # an existing one

Every replica runs with auth and a (never reached) rate limit on, the path whose shared state is
in the database: each call authenticates its API key and takes a token from its bucket there. The
baseline, in the same run, is one replica on its own SQLite file (the single-process default: the
same key lookup, a bucket in memory). Without --database-url a throwaway PostgreSQL is started
(scripts/test_postgres.sh; Debian's `postgresql` package) with pg_stat_statements loaded.

On a machine with few cores the replicas, PostgreSQL and this client share them: more replicas
then add database work and processes, not CPU, and the figures say what that costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from autoglm_client import AsyncAutoGLMClient
from benchmarks.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "bench-replicas-admin-key-0123456789"
# Statements of the registry's background sync: counted apart, they do not grow with the load.
SYNC_TABLES = ("desired_model_versions", "model_splits")


@contextmanager
def postgres(url: str) -> Iterator[str]:
    """The given URL, or a throwaway server for this run."""
    if url:
        yield url
        return
    directory = tempfile.mkdtemp(prefix="autoglm-bench-pg-")
    script = ROOT / "scripts" / "test_postgres.sh"
    started = subprocess.run([str(script), "start", directory], check=True, capture_output=True, text=True)
    try:
        yield started.stdout.strip().rsplit("AUTOGLM_TEST_DATABASE_URL=", 1)[1]
    finally:
        subprocess.run([str(script), "stop", directory], check=False)


def reset_database(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
    engine.dispose()


def statement_counts(url: str) -> dict[str, int]:
    """Calls per statement text of the benchmark's database since the last reset."""
    engine = create_engine(url)
    with engine.begin() as connection:
        rows = connection.execute(
            text(
                "SELECT query, calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                "WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%'"
            )
        ).all()
    engine.dispose()
    counts: dict[str, int] = {}
    for query, calls in rows:
        short = " ".join(query.split())[:90]  # enough to tell the statements apart
        counts[short] = counts.get(short, 0) + int(calls)
    return counts


def reset_statements(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_stat_statements_reset()"))
    engine.dispose()


def flags(url: str, data_dir: Path) -> list[str]:
    database = ["--database-url", url] if url else []
    return [
        "--backend", "mock", "--max-running", "1024", "--max-queue", "10000",
        "--auth-enabled", "true", "--admin-key", ADMIN_KEY, "--rate-limit-per-minute", "100000000",
        "--metrics-port", "0", "--tool-router", "lexical", "--data-dir", str(data_dir), *database,
    ]  # fmt: skip


async def drive(targets: list[str], requests: int, concurrency: int) -> float:
    """Unary Generate calls per second over all targets (round-robin, one channel)."""
    async with AsyncAutoGLMClient(targets, api_key=ADMIN_KEY, timeout=120) as client:
        for _ in range(len(targets) * 2):  # connect to every replica before timing
            await client.generate("warm", max_new_tokens=1)
        remaining = [requests]

        async def worker() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await client.generate("hi", max_new_tokens=1)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def run_level(url: str, replicas: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    if url:
        reset_database(url)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(ServerProcess(flags(url, work / f"{replicas}-{i}"), startup_timeout_s=300))
            for i in range(replicas)
        ]
        targets = [s.target for s in servers]
        asyncio.run(drive(targets, 20, 4))  # warm every replica and the key's rows
        if url:
            reset_statements(url)
        started = time.perf_counter()
        calls_per_s = asyncio.run(drive(targets, args.requests, args.concurrency))
        wall_s = time.perf_counter() - started
        counts = statement_counts(url) if url else {}
    warm_calls = 2 * replicas  # drive() warms each replica before its timed calls
    generates = args.requests + warm_calls
    sync = sum(c for q, c in counts.items() if any(t in q for t in SYNC_TABLES))
    per_call = {q: round(c / generates, 3) for q, c in counts.items() if not any(t in q for t in SYNC_TABLES)}
    result: dict[str, Any] = {
        "replicas": replicas,
        "database": "postgresql" if url else "sqlite",
        "generate_per_s": round(calls_per_s, 1),
    }
    if url:
        result["queries_per_generate"] = round(sum(per_call.values()), 2)
        result["queries_per_generate_by_statement"] = dict(sorted(per_call.items(), key=lambda kv: -kv[1]))
        result["registry_sync_queries_per_s"] = round(sync / wall_s, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="a PostgreSQL URL (default: a throwaway server)")
    parser.add_argument("--replicas", default="1,2,3")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="autoglm-bench-replicas-") as tmp,
        postgres(args.database_url) as url,
    ):
        work = Path(tmp)
        levels = [run_level("", 1, args, work)]  # the baseline: one process, SQLite
        levels += [run_level(url, int(n), args, work) for n in args.replicas.split(",")]
    baseline = levels[0]["generate_per_s"]
    for level in levels:
        level["vs_one_sqlite_process"] = round(level["generate_per_s"] / baseline, 2)
    report = {
        "benchmark": "replicas",
        "requests": args.requests,
        "concurrency": args.concurrency,
        "levels": levels,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    out = json.dumps(report, indent=2)
    print(out)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(out + "\n")


if __name__ == "__main__":
    main()
