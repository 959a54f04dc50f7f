"""Cost of one tool call through the executor: an MCP tool over streamable HTTP and over stdio, beside
an HTTP tool and a Python tool doing the same work (adding two numbers), in the same run.

The MCP servers are tests/mcp_server.py (the SDK's MCPServer) in child processes; the HTTP tool
calls a tiny local HTTP server (tests/tool_support.py's /echo). Each kind is measured in alternating
rounds, one call at a time and 16 at once, so that load on the machine hits every kind alike.

    python benchmarks/bench_mcp.py [--calls 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoglm_core.tools.agent import build_toolbox
from autoglm_core.tools.executor import PendingCall, ToolExecutor
from autoglm_core.tools.mcp.spec import McpHttp, McpServerSpec, McpStdio
from autoglm_core.tools.registry import HttpSpec, ToolSpec
from tests.mcp_support import PYTHON, SERVER_SCRIPT, http_mcp_server
from tests.tool_support import local_http_server

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}


def add(a: int, b: int) -> int:
    """Adds two integers.

    Args:
        a: One.
        b: The other.
    """
    return a + b


async def calls_per_second(executor: ToolExecutor, spec: ToolSpec, calls: int, parallel: int) -> float:
    allowed = {spec.name: spec}
    started = time.perf_counter()
    for batch in range(0, calls, parallel):
        pending = [PendingCall(str(i), spec.name, {"a": i, "b": 1}) for i in range(batch, batch + parallel)]
        records = await executor.run_all(pending, allowed)
        assert not any(r.error for r in records), records[0].error
    return calls / (time.perf_counter() - started)


async def main(calls: int, rounds: int) -> dict[str, dict[str, float]]:
    with http_mcp_server() as web, local_http_server() as base:
        box = build_toolbox(allowlist=["127.0.0.1"], mcp_stdio_commands=[PYTHON], router="off")
        box.registry.add(add)
        box.registry.register_http(
            ToolSpec("add_http", "Echo.", SCHEMA, "http", http=HttpSpec("GET", base + "/echo"))
        )
        assert box.mcp is not None
        await box.mcp.register(McpServerSpec("web", http=McpHttp(web.url)))
        await box.mcp.register(McpServerSpec("local", stdio=McpStdio(PYTHON, (SERVER_SCRIPT, "stdio"))))
        kinds = {name: box.registry.get(name) for name in ("add", "add_http", "web.add", "local.add")}
        results: dict[str, dict[str, list[float]]] = {k: {"1": [], "16": []} for k in kinds}
        for _ in range(rounds):
            for name, spec in kinds.items():
                for parallel in (1, 16):
                    rate = await calls_per_second(box.executor, spec, calls, parallel)
                    results[name][str(parallel)].append(rate)
        await box.close()
    return {k: {p: statistics.median(v) for p, v in by.items()} for k, by in results.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    report = asyncio.run(main(args.calls, args.rounds))
    print(f"load average {os.getloadavg()[0]:.1f}; calls/s (median of {args.rounds} rounds)")
    print(f"{'tool':<12}{'1 at a time':>14}{'16 at once':>14}")
    for name, by in report.items():
        print(f"{name:<12}{by['1']:>14.0f}{by['16']:>14.0f}")
    print(json.dumps(report))
