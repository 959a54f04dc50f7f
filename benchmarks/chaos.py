"""Chaos run: do well-behaved callers stay served while others misbehave? (mock backend, JSON report)

    python benchmarks/chaos.py                       # phases of 30 s: calm, chaos, chaos again
    python benchmarks/chaos.py --phase-s 60 --out benchmarks/results/chaos.json
    python benchmarks/chaos.py --misbehaviours deadline   # one misbehaviour's cost alone

Phase "calm": well-behaved callers only: unary Generate calls arriving at a fixed rate (open loop,
`--rate` per second, below what the server can do) and two streams read to the end, one after
another. Phase "chaos": the same callers, plus streams whose clients stop reading, streams
cancelled mid-way, calls with deadlines too short to finish, bodies that are not protobuf, and one
watchdog restart of the backend (SIGUSR1 makes the server's backend report unhealthy once). The
report gives the well-behaved callers' latency in both phases (p99 ratio: target within 2x), the
server's RSS growth over the chaos phase (target < 5%), and every status code seen, with the count
of UNKNOWN/INTERNAL (target 0). A second chaos phase follows (`--no-repeat` skips it): its RSS
growth tells a leak (memory that grows with every storm) from what the first storm sizes once.

The well-behaved calls arrive at a fixed rate rather than as fast as the server answers: a server
kept saturated by closed-loop callers has their latency set by how many calls are in flight
(Little's law), so any extra caller, well-behaved or not, would raise it in proportion. At a fixed
rate the ratio shows what misbehaviour costs the others beyond the work it brings.

The server runs in its own process (`chaos.py serve`: `autoglm serve` on the mock backend plus the
SIGUSR1 hook), and so do the misbehaving callers (`chaos.py misbehave`), as other clients would: no
two of server, well-behaved and misbehaving callers share an event loop or a connection.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoglm.v1 import generation_pb2, generation_pb2_grpc
from autoglm_client import build_input
from benchmarks.loadgen import PROMPTS, percentile
from benchmarks.server_process import ServerProcess

# A client that lets its flow-control window stay small (64 KiB), so not reading stalls the server.
STUBBORN = [("grpc.http2.bdp_probe", 0)]
# Output far beyond what the window and the sockets' buffers hold (the chaos server's mock has room).
SLOW_READER_TOKENS = 30_000
# Each token with this many alternatives is hundreds of bytes, so the stream outgrows the window in a
# few hundred tokens. Without them a token is a byte or so once a writer that falls behind merges
# tokens into one message: the window then held most of a stream, which ran for the whole phase at
# the mock's speed instead of stalling (3 of 20 stalled), a load rather than the misbehaviour.
SLOW_READER_ALTERNATIVES = 20
CONTEXT = SLOW_READER_TOKENS + 1000
# Each misbehaving caller makes a call every PACE_S: misbehaviour, not a flood of extra load.
PACE_S = 0.05
GARBAGE = [b"\xff\xff\xff\xff", b"\x0a\x02\xc3\x28", b"\x0b" * 3000]
# What the chaos phase can bring (`--misbehaviours`; all by default): one at a time tells which costs
# the well-behaved callers most.
MISBEHAVIOURS = ("slow", "cancel", "deadline", "garbage", "restart")


class Tally:
    """Status codes seen by each kind of caller, and latencies of the well-behaved ones."""

    def __init__(self) -> None:
        self.codes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.latencies: list[float] = []
        self.started: list[float] = []  # when each of `latencies` began (monotonic)

    def saw(self, kind: str, code: grpc.StatusCode) -> None:
        self.codes[kind][code.name] += 1


async def _well_behaved_unary(stub: Any, tally: Tally, until: float, rate: float) -> None:
    """Calls at `rate` per second (each on its own, whether or not earlier ones have answered)."""
    rng = random.Random()

    async def one() -> None:
        request = generation_pb2.GenerateRequest(input=build_input(rng.choice(PROMPTS), max_new_tokens=32))
        started = time.monotonic()
        try:
            await stub.Generate(request, timeout=30)
            tally.latencies.append(time.monotonic() - started)
            tally.started.append(started)
            tally.saw("well_behaved", grpc.StatusCode.OK)
        except grpc.aio.AioRpcError as error:
            tally.saw("well_behaved", error.code())

    calls: set[asyncio.Task[None]] = set()
    next_at = time.monotonic()
    while next_at < until:
        call = asyncio.create_task(one())
        calls.add(call)
        call.add_done_callback(calls.discard)
        next_at += 1.0 / rate
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.gather(*calls)


async def _well_behaved_stream(stub: Any, tally: Tally, until: float) -> None:
    while time.monotonic() < until:
        request = generation_pb2.GenerateStreamRequest(input=build_input("tell me more", max_new_tokens=64))
        try:
            async for _ in stub.GenerateStream(request, timeout=30):
                pass
            tally.saw("well_behaved_stream", grpc.StatusCode.OK)
        except grpc.aio.AioRpcError as error:
            tally.saw("well_behaved_stream", error.code())
            await asyncio.sleep(0.05)


async def _slow_reader(target: str, tally: Tally, until: float, arrive_by: float) -> None:
    # Slow readers arrive one by one over the first half of the phase, as misbehaving clients
    # would, rather than as one burst of twenty long streams at the same instant.
    await asyncio.sleep(random.uniform(0.0, max(0.0, arrive_by - time.monotonic())))
    async with grpc.aio.insecure_channel(target, options=STUBBORN) as channel:
        stub = generation_pb2_grpc.GenerationServiceStub(channel)
        while time.monotonic() < until:
            given = build_input(
                "x",
                max_new_tokens=SLOW_READER_TOKENS,
                min_new_tokens=SLOW_READER_TOKENS,
                logprobs=True,
                top_logprobs=SLOW_READER_ALTERNATIVES,
            )
            call = stub.GenerateStream(generation_pb2.GenerateStreamRequest(input=given), timeout=60)
            try:
                await call.read()
                # Then read nothing: until the server gives up on this stream, or the phase ends.
                while not call.done() and time.monotonic() < until:
                    await asyncio.sleep(0.2)
                call.cancel()
                code = await call.code()
                tally.saw("slow_reader", code)
            except grpc.aio.AioRpcError as error:
                tally.saw("slow_reader", error.code())


async def _canceller(stub: Any, tally: Tally, until: float) -> None:
    while time.monotonic() < until:
        call = stub.GenerateStream(
            generation_pb2.GenerateStreamRequest(input=build_input("y", max_new_tokens=500)), timeout=30
        )
        seen = 0
        try:
            async for _ in call:
                seen += 1
                if seen == 3:
                    break
            call.cancel()
            tally.saw("canceller", grpc.StatusCode.CANCELLED)
        except grpc.aio.AioRpcError as error:
            tally.saw("canceller", error.code())
        await asyncio.sleep(PACE_S)


async def _deadline_misser(stub: Any, tally: Tally, until: float) -> None:
    while time.monotonic() < until:
        request = generation_pb2.GenerateRequest(input=build_input("z", max_new_tokens=400))
        try:
            await stub.Generate(request, timeout=0.05)
            tally.saw("deadline", grpc.StatusCode.OK)
        except grpc.aio.AioRpcError as error:
            tally.saw("deadline", error.code())
        await asyncio.sleep(PACE_S)


async def _garbage(channel: grpc.aio.Channel, tally: Tally, until: float) -> None:
    send = channel.unary_unary(
        "/autoglm.v1.GenerationService/Generate",
        request_serializer=lambda b: b,
        response_deserializer=lambda b: b,
    )
    rng = random.Random()
    while time.monotonic() < until:
        try:
            await send(rng.choice(GARBAGE), timeout=5)
            tally.saw("bad_body", grpc.StatusCode.OK)
        except grpc.aio.AioRpcError as error:
            tally.saw("bad_body", error.code())
        await asyncio.sleep(PACE_S)


async def _restart_midway(server: ServerProcess, after_s: float) -> None:
    await asyncio.sleep(after_s)
    assert server.process is not None
    server.process.send_signal(signal.SIGUSR1)


async def run_phase(
    server: ServerProcess, seconds: float, chaos: bool, args: argparse.Namespace
) -> dict[str, Any]:
    tally = Tally()
    begun = time.monotonic()
    until = begun + seconds
    kinds = args.misbehaviours
    misbehaving = _start_misbehaving(server.target, seconds, args.slow_readers, kinds) if chaos else None
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = generation_pb2_grpc.GenerationServiceStub(channel)
        jobs = [_well_behaved_unary(stub, tally, until, args.rate)]
        jobs += [_well_behaved_stream(stub, tally, until) for _ in range(2)]
        if chaos and "restart" in kinds:
            jobs.append(_restart_midway(server, seconds / 2))
        rss_before = server.memory_mb()["rss_mb"]
        await asyncio.gather(*jobs)
        if misbehaving is not None:
            out, _ = await asyncio.to_thread(misbehaving.communicate, timeout=seconds + 60)
            for kind, counts in json.loads(out).items():
                tally.codes[kind].update(counts)
        await asyncio.sleep(2.0)  # let the last cancelled calls' memory go
        rss_after = server.memory_mb()["rss_mb"]
    lat = tally.latencies
    return {
        "well_behaved_calls": len(lat),
        "latency_s": {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "max": max(lat, default=0.0)},
        "worst_seconds": _worst_seconds(tally, begun),
        "rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1)},
        "codes": {kind: dict(counter) for kind, counter in tally.codes.items()},
    }


def _misbehaviours(text: str) -> list[str]:
    kinds = [kind for kind in text.split(",") if kind]
    unknown = sorted(set(kinds) - set(MISBEHAVIOURS))
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"{text!r}: name some of {','.join(MISBEHAVIOURS)}")
    return kinds


def _worst_seconds(tally: Tally, begun: float, shown: int = 3) -> list[dict[str, float]]:
    """The phase's seconds with the slowest well-behaved calls: where its p99 comes from (a burst
    such as the restart, or the whole phase)."""
    by_second: dict[int, list[float]] = collections.defaultdict(list)
    for started, latency in zip(tally.started, tally.latencies, strict=True):
        by_second[int(started - begun)].append(latency)
    worst = sorted(by_second.items(), key=lambda item: -max(item[1]))[:shown]
    return [{"second": second, "calls": len(lat), "p99": percentile(lat, 99)} for second, lat in worst]


def _start_misbehaving(
    target: str, seconds: float, slow_readers: int, kinds: list[str]
) -> subprocess.Popen[str]:
    """The misbehaving callers, in a process of their own: other clients, on their own connections,
    as in a real deployment (in the well-behaved callers' process they would delay those callers'
    own event loop and share their connection, and the run would measure the client)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "misbehave",
        target,
        str(seconds),
        str(slow_readers),
        ",".join(kinds),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


async def misbehave(
    target: str, seconds: float, slow_readers: int, kinds: list[str]
) -> dict[str, dict[str, int]]:
    """Slow readers, cancellers, deadline missers and garbage bodies for `seconds`; their codes."""
    tally = Tally()
    until = time.monotonic() + seconds
    arrive_by = time.monotonic() + seconds / 2
    async with grpc.aio.insecure_channel(target) as channel:
        stub = generation_pb2_grpc.GenerationServiceStub(channel)
        jobs = []
        if "slow" in kinds:
            jobs += [_slow_reader(target, tally, until, arrive_by) for _ in range(slow_readers)]
        if "cancel" in kinds:
            jobs += [_canceller(stub, tally, until) for _ in range(4)]
        if "deadline" in kinds:
            jobs += [_deadline_misser(stub, tally, until) for _ in range(4)]
        if "garbage" in kinds:
            jobs += [_garbage(channel, tally, until) for _ in range(2)]
        await asyncio.gather(*jobs)
    return {kind: dict(counter) for kind, counter in tally.codes.items()}


def _server_codes(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    codes: dict[str, float] = collections.Counter()
    for line in text.splitlines():
        if line.startswith("autoglm_rpc_requests_total{"):
            code = line.split('code="', 1)[1].split('"', 1)[0]
            codes[code] += float(line.rsplit(" ", 1)[1])
        elif line.startswith(("autoglm_self_heal_events_total{", "autoglm_slow_reader_cancels_total{")):
            event = line.split('event="', 1)[1].split('"', 1)[0] if 'event="' in line else ""
            codes[f"{line.split('{', 1)[0]}:{event}".rstrip(":")] += float(line.rsplit(" ", 1)[1])
    return dict(codes)


def _first_error(lines: list[str]) -> list[str]:
    """The server's first error line with its traceback (the report's evidence when not clean)."""
    starts = [i for i, line in enumerate(lines) if " ERROR " in line or " CRITICAL " in line]
    if not starts:
        return []
    first = starts[0]
    end = next((i for i in range(first + 1, len(lines)) if lines[i][:4].isdigit()), len(lines))
    return [line.rstrip() for line in lines[first:end]] + [f"({len(starts)} error lines in all)"]


def chaos(args: argparse.Namespace) -> dict[str, Any]:
    flags = [
        "--mock-token-latency-ms", "0.5", "--max-running", "64", "--stream-write-timeout-s", "2",
        "--watchdog-interval-s", "0.5", "--metrics-port", str(args.metrics_port),
        "--data-dir", tempfile.mkdtemp(prefix="autoglm-chaos-"),
    ]  # fmt: skip
    command = [sys.executable, str(Path(__file__).resolve()), "serve", "--port", "0"]
    with ServerProcess(flags, command=command) as server:
        # Warm-up, not measured: the first calls meet lazy set-up (connections, first reads).
        asyncio.run(run_phase(server, args.warmup_s, False, args))
        calm = asyncio.run(run_phase(server, args.phase_s, False, args))
        stormy = asyncio.run(run_phase(server, args.phase_s, True, args))
        # The same storm again: memory that grows on every storm is a leak, memory the first one
        # brings (allocator arenas, buffers and caches sized to the load) is not.
        again = asyncio.run(run_phase(server, args.phase_s, True, args)) if args.repeat else None
        server_codes = _server_codes(args.metrics_port)
        problems = _first_error(list(server.output))
    seen = collections.Counter(server_codes)
    for phase in [p for p in (calm, stormy, again) if p is not None]:
        for counter in phase["codes"].values():
            seen.update({k: v for k, v in counter.items() if k in ("UNKNOWN", "INTERNAL")})
    return {
        "benchmark": "chaos",
        "phase_s": args.phase_s,
        "well_behaved_rate": args.rate,
        "misbehaviours": args.misbehaviours,
        "calm": calm,
        "chaos": stormy,
        "p99_ratio": round(stormy["latency_s"]["p99"] / max(calm["latency_s"]["p99"], 1e-9), 2),
        "rss_growth_pct": _growth_pct(stormy),
        "chaos_again": again,
        "rss_growth_again_pct": None if again is None else _growth_pct(again),
        "server_codes": server_codes,
        "unknown_or_internal": int(seen["UNKNOWN"] + seen["INTERNAL"]),
        "server_error_lines": problems[:20],
    }


def _growth_pct(phase: dict[str, Any]) -> float:
    rss = phase["rss_mb"]
    return round(float(rss["after"] - rss["before"]) / max(float(rss["before"]), 1.0) * 100, 1)


def serve(argv: list[str]) -> None:
    """`autoglm serve --backend mock` whose backend turns unhealthy once per SIGUSR1."""
    from autoglm_server.app import AutoGLMServer, settle_garbage_collector
    from autoglm_server.observability.logs import configure_logging
    from autoglm_server.server_settings import ServerSettings

    flags = dict(zip(argv[::2], argv[1::2], strict=True))
    settings = ServerSettings(
        backend="mock", **{k.lstrip("-").replace("-", "_"): v for k, v in flags.items()}
    )  # type: ignore[arg-type]
    configure_logging("INFO", "text")

    from dependency_injector import providers

    from autoglm_core.backends.mock import MockBackend, MockBehaviour
    from autoglm_core.registry.manager import BackendSpec
    from autoglm_core.wiring.container import build_container

    def mock(name: str = "mock", version: str = "1.0.0") -> MockBackend:
        behaviour = MockBehaviour(token_latency_s=settings.mock_token_latency_ms / 1000)
        return MockBackend(name=name, version=version, context_length=CONTEXT, behaviour=behaviour)

    def factory(spec: BackendSpec) -> MockBackend:  # the watchdog's restarts
        return mock(spec.name, spec.version)

    async def run() -> None:
        container = build_container(settings)
        container.backend.override(providers.Object(mock()))
        container.backend_factory.override(providers.Object(factory))
        server = AutoGLMServer(settings, container)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        def break_backend() -> None:
            backend = server.container.registry().resolve("")
            backend.behaviour.unhealthy = True  # type: ignore[attr-defined]

        loop.add_signal_handler(signal.SIGUSR1, break_backend)
        await server.start()
        settle_garbage_collector()  # as `autoglm serve` does
        # One write: log lines come from a thread of their own and must not land inside it.
        sys.stdout.write(f"autoglm: serving on {settings.host}:{server.port}\n")
        sys.stdout.flush()
        await stop.wait()
        await server.stop(grace_s=1)

    asyncio.run(run())


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2:])
        return
    if sys.argv[1:2] == ["misbehave"]:
        target, seconds, slow_readers, kinds = sys.argv[2:6]
        report = asyncio.run(misbehave(target, float(seconds), int(slow_readers), kinds.split(",")))
        print(json.dumps(report))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phase-s", type=float, default=30.0, help="seconds of each phase")
    parser.add_argument("--warmup-s", type=float, default=3.0, help="seconds of calm load before measuring")
    parser.add_argument("--rate", type=float, default=200.0, help="well-behaved unary calls per second")
    parser.add_argument("--slow-readers", type=int, default=20, help="streams that stop reading, at once")
    parser.add_argument(
        "--misbehaviours",
        type=_misbehaviours,
        default=list(MISBEHAVIOURS),
        help=f"which misbehaviours the chaos phase brings, comma-separated (of {','.join(MISBEHAVIOURS)})",
    )
    parser.add_argument("--metrics-port", type=int, default=19464)
    parser.add_argument(
        "--repeat", action=argparse.BooleanOptionalAction, default=True, help="a second chaos phase (leaks)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = chaos(args)
    report["machine"] = {"cpus": os.cpu_count()}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
