"""Model versions side by side: LoadModel, traffic splits, promote, rollback, UnloadModel draining."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from autoglm.v1 import model_pb2
from autoglm_core.backends.mock import MockBehaviour
from tests.conftest import caller_ids
from tests.integration.ops_support import OpsServer, start_ops_server


async def _load(ops: OpsServer, version: str, **metrics: float) -> model_pb2.Model:
    request = model_pb2.LoadModelRequest(name="mock", version=version, source="mock", metrics=metrics)
    response = await ops.client.models.LoadModel(request, timeout=10)
    return response.model


def _weights(model: model_pb2.Model) -> dict[str, int]:
    return {v.version: v.traffic_weight for v in model.versions}


async def test_versions_load_split_promote_and_roll_back() -> None:
    ops = await start_ops_server()
    try:
        model = await _load(ops, "2.0.0", mmlu=0.41)
        assert _weights(model) == {"1.0.0": 100, "2.0.0": 0}  # a new version waits for traffic
        new = next(v for v in model.versions if v.version == "2.0.0")
        assert new.metrics["mmlu"] == pytest.approx(0.41)
        assert new.id and new.state == model_pb2.MODEL_STATE_READY

        pinned = await ops.client.generate("x", model="mock@2.0.0", max_new_tokens=3)
        assert pinned.model.version == "2.0.0"

        split = model_pb2.SetTrafficSplitRequest(name="mock", weights={"1.0.0": 80, "2.0.0": 20}, sticky=True)
        model = (await ops.client.models.SetTrafficSplit(split)).model
        assert _weights(model) == {"1.0.0": 80, "2.0.0": 20}
        promote = model_pb2.PromoteModelVersionRequest(name="mock", version="2.0.0")
        model = (await ops.client.models.PromoteModelVersion(promote)).model
        assert _weights(model) == {"1.0.0": 0, "2.0.0": 100}
        served = await ops.client.generate("x", max_new_tokens=3)
        assert served.model.version == "2.0.0"
        model = (
            await ops.client.models.RollbackTrafficSplit(model_pb2.RollbackTrafficSplitRequest(name="mock"))
        ).model
        assert _weights(model) == {"1.0.0": 80, "2.0.0": 20}
    finally:
        await ops.close()


async def test_bad_versions_are_refused_with_clear_codes() -> None:
    ops = await start_ops_server()
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _load(ops, "two")
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _load(ops, "1.0.0")
        assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await ops.client.models.RollbackTrafficSplit(model_pb2.RollbackTrafficSplitRequest(name="mock"))
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        await ops.close()


async def test_unload_drains_a_stream_in_flight_and_new_calls_move_on() -> None:
    ops = await start_ops_server(later=lambda spec: MockBehaviour(token_latency_s=0.01))
    try:
        await _load(ops, "2.0.0")
        promote = model_pb2.PromoteModelVersionRequest(name="mock", version="2.0.0")
        await ops.client.models.PromoteModelVersion(promote)
        events = ops.client.stream("x", max_new_tokens=50, request_id="in-flight")
        first = await anext(aiter(events))
        assert first.HasField("content_delta")

        unload = model_pb2.UnloadModelRequest(name="mock", version="2.0.0")
        unloading = asyncio.ensure_future(ops.client.models.UnloadModel(unload, timeout=10))
        await asyncio.sleep(0.05)
        # While it drains, unpinned calls go to 1.0.0 and the version reports DRAINING.
        moved = await ops.client.generate("y", max_new_tokens=2)
        assert moved.model.version == "1.0.0"
        listed = await ops.client.list_models()
        states = {v.version: v.state for v in listed.models[0].versions}
        assert states["2.0.0"] == model_pb2.MODEL_STATE_DRAINING
        assert not unloading.done()

        rest = [e async for e in events]
        assert rest[-1].finished.usage.completion_tokens == 50  # the stream never noticed
        assert (await unloading).drained_calls == 1
        (v2,) = ops.built
        assert (
            "in-flight" in caller_ids(v2.finished) and not await v2.health()
        )  # closed only after it finished
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await ops.client.generate("x", model="mock@2.0.0", max_new_tokens=2)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await ops.close()


async def test_loading_a_version_does_not_disturb_calls_in_flight() -> None:
    ops = await start_ops_server(
        MockBehaviour(token_latency_s=0.01), later=lambda spec: MockBehaviour(load_latency_s=1.0)
    )
    try:
        events = ops.client.stream("x", max_new_tokens=40)
        assert (await anext(aiter(events))).HasField("content_delta")
        loading = asyncio.ensure_future(_load(ops, "1.1.0"))
        during = await ops.client.generate("y", max_new_tokens=3)  # served while the load runs
        assert during.model.version == "1.0.0" and not loading.done()
        rest = [e async for e in events]
        assert rest[-1].finished.usage.completion_tokens == 40
        assert {v.version for v in (await loading).versions} == {"1.0.0", "1.1.0"}
    finally:
        await ops.close()
