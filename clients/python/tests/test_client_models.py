"""ModelService through the client: versions side by side, traffic splits, promote, rollback, unload."""

from __future__ import annotations

import uuid

import pytest
from conftest import LiveServer

from autoglm.v1 import model_pb2
from autoglm_client import AsyncAutoGLMClient, AutoGLMClient, errors


def weights(model: model_pb2.Model) -> dict[str, int]:
    return {v.version: v.traffic_weight for v in model.versions}


def test_load_split_promote_rollback_unload(server: LiveServer) -> None:
    name = f"canary-{uuid.uuid4().hex[:6]}"
    with AutoGLMClient(server.target, timeout=30) as client:
        loaded = client.load_model(name, "1.0.0", source="mock", backend="mock")
        assert loaded.name == name and [v.state for v in loaded.versions] == [model_pb2.MODEL_STATE_READY]
        client.load_model(name, "1.1.0", source="mock", backend="mock", metrics={"eval_accuracy": 0.9})
        assert weights(client.get_model(name)) == {"1.0.0": 100, "1.1.0": 0}  # a new version takes no traffic
        assert name in [m.name for m in client.list_models().models]

        assert weights(client.set_traffic_split(name, {"1.0.0": 95, "1.1.0": 5})) == {"1.0.0": 95, "1.1.0": 5}
        assert client.generate("hello", model=f"{name}@1.1.0", max_new_tokens=2).model.version == "1.1.0"
        assert weights(client.promote_model_version(name, "1.1.0")) == {"1.0.0": 0, "1.1.0": 100}
        assert weights(client.rollback_traffic_split(name)) == {"1.0.0": 95, "1.1.0": 5}

        assert client.unload_model(name, "1.1.0", drain_timeout_s=5) == 0
        assert weights(client.get_model(name)) == {"1.0.0": 100}


def test_model_errors_are_typed(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=30) as client:
        with pytest.raises(errors.NotFound) as raised:
            client.get_model("no-such-model")
        assert raised.value.resource is not None
        with pytest.raises(errors.InvalidArgument) as bad:
            client.set_traffic_split("mock", {"1.0.0": 50})
        assert [path for path, _ in bad.value.field_violations] == ["weights"]
        with pytest.raises(errors.AlreadyExists):
            client.load_model("mock", "1.0.0", source="mock", backend="mock")


async def test_async_models(server: LiveServer) -> None:
    name = f"async-{uuid.uuid4().hex[:6]}"
    async with AsyncAutoGLMClient(server.target, timeout=30) as client:
        await client.load_model(name, "1.0.0", source="mock", backend="mock")
        await client.load_model(name, "2.0.0", source="mock", backend="mock")
        assert name in [m.name for m in (await client.list_models()).models]
        assert weights(await client.set_traffic_split(name, {"1.0.0": 50, "2.0.0": 50}))["2.0.0"] == 50
        assert weights(await client.promote_model_version(name, "2.0.0"))["2.0.0"] == 100
        assert weights(await client.rollback_traffic_split(name))["2.0.0"] == 50
        assert await client.unload_model(name, "1.0.0") == 0
        assert [v.version for v in (await client.get_model(name)).versions] == ["2.0.0"]
