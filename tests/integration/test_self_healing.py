"""The watchdog: wedged, unhealthy and failing backends are restarted; a failing canary is rolled back."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2

from autoglm.v1 import model_pb2
from autoglm_core.backends.mock import MockBehaviour
from autoglm_core.registry.manager import BackendSpec
from tests.integration.ops_support import OpsServer, start_ops_server

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
GENERATION = "autoglm.v1.GenerationService"
FAST_CHECKS = 0.05  # watchdog_interval_s
STALL_S = 1.0  # generous: a loaded CI machine can pause a healthy stream for a few hundred ms


def _slow_fresh_load(spec: BackendSpec) -> MockBehaviour:
    # A restart that takes a moment, so the NOT_SERVING phase can be seen.
    return MockBehaviour(load_latency_s=0.3)


class _ReadinessLog:
    """Wraps the watchdog's health listener; records what a client's health check read after
    each change (so a short NOT_SERVING phase cannot slip between two polls)."""

    def __init__(self, ops: OpsServer) -> None:
        self._inner = ops.server.ops.watchdog.listener
        assert self._inner is not None
        self._client = ops.client
        self.seen: list[int] = []
        ops.server.ops.watchdog.listener = self

    async def degraded(self, reason: str) -> None:
        assert self._inner is not None
        await self._inner.degraded(reason)
        self.seen.append(await self._client.health(GENERATION))

    async def recovered(self) -> None:
        assert self._inner is not None
        await self._inner.recovered()
        self.seen.append(await self._client.health(GENERATION))

    async def wait_for(self, statuses: list[int], timeout_s: float = 10.0) -> None:
        give_up = time.monotonic() + timeout_s
        while self.seen != statuses and time.monotonic() < give_up:
            await asyncio.sleep(0.02)
        assert self.seen == statuses


async def test_a_wedged_backend_is_restarted_and_serving_resumes() -> None:
    ops = await start_ops_server(
        MockBehaviour(hang_after_tokens=3),
        later=_slow_fresh_load,
        watchdog_interval_s=FAST_CHECKS,
        watchdog_stall_s=STALL_S,
        stream_write_timeout_s=STALL_S / 2,
    )
    readiness = _ReadinessLog(ops)
    try:
        hung = asyncio.ensure_future(ops.client.generate("x", max_new_tokens=20, timeout=10))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await hung  # the wedged call ends with a retryable error, not a hang
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        await readiness.wait_for([NOT_SERVING, SERVING])
        (fresh,) = ops.built
        response = await ops.client.generate("x", max_new_tokens=20)
        assert response.usage.completion_tokens == 20
        assert fresh.finished and not await ops.backend.health()  # the old one was closed
    finally:
        await ops.close()


async def test_an_unhealthy_backend_is_restarted() -> None:
    ops = await start_ops_server(
        later=_slow_fresh_load,
        watchdog_interval_s=FAST_CHECKS,
        watchdog_stall_s=STALL_S,
        stream_write_timeout_s=STALL_S / 2,
    )
    readiness = _ReadinessLog(ops)
    try:
        ops.backend.behaviour.unhealthy = True
        await readiness.wait_for([NOT_SERVING, SERVING])
        assert len(ops.built) == 1
        response = await ops.client.generate("x", max_new_tokens=5)
        assert response.usage.completion_tokens == 5
    finally:
        await ops.close()


async def test_repeated_backend_errors_trigger_a_restart() -> None:
    ops = await start_ops_server(
        MockBehaviour(fail_after_tokens=1),
        watchdog_max_errors=2,
        watchdog_interval_s=FAST_CHECKS,
        watchdog_stall_s=STALL_S,
        stream_write_timeout_s=STALL_S / 2,
    )
    readiness = _ReadinessLog(ops)
    try:
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await ops.client.generate("x", max_new_tokens=5)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        await readiness.wait_for([NOT_SERVING, SERVING])
        assert len(ops.built) == 1
        response = await ops.client.generate("x", max_new_tokens=5)
        assert response.usage.completion_tokens == 5
    finally:
        await ops.close()


async def test_a_failing_canary_is_rolled_back(caplog: pytest.LogCaptureFixture) -> None:
    ops = await start_ops_server(
        later=lambda spec: MockBehaviour(fail_after_tokens=0),
        watchdog_max_errors=1000,  # judge the canary only, no restarts
        canary_min_calls=4,
        canary_error_rate=0.5,
        watchdog_interval_s=FAST_CHECKS,
        watchdog_stall_s=STALL_S,
        stream_write_timeout_s=STALL_S / 2,
    )
    caplog.set_level(logging.WARNING, logger="autoglm_core.health.watchdog")
    try:
        load = model_pb2.LoadModelRequest(name="mock", version="1.1.0", source="mock")
        await ops.client.models.LoadModel(load)
        split = model_pb2.SetTrafficSplitRequest(name="mock", weights={"1.0.0": 95, "1.1.0": 5})
        await ops.client.models.SetTrafficSplit(split)
        for _ in range(4):
            with pytest.raises(grpc.aio.AioRpcError):
                await ops.client.generate("x", model="mock@1.1.0", max_new_tokens=3)
        for _ in range(100):
            model = (await ops.client.list_models()).models[0]
            weights = {v.version: v.traffic_weight for v in model.versions}
            if weights["1.1.0"] == 0:
                break
            await asyncio.sleep(0.02)
        assert weights == {"1.0.0": 100, "1.1.0": 0}
        assert any(getattr(r, "event", "") == "canary_rollback" for r in caplog.records)
        labels = {"event": "canary_rollback", "model": "mock", "version": "1.1.0"}
        assert ops.server.ops.metrics.registry.get_sample_value("autoglm_self_heal_events_total", labels) == 1
    finally:
        await ops.close()
