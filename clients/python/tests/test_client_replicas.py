"""Several addresses: the round-robin channel with retries, and request ids that make retried
create calls safe (three real replicas on PostgreSQL: tests/integration/test_replicas.py)."""

from __future__ import annotations

import json
import socket
import uuid

import grpc
import pytest
from conftest import LiveServer

from autoglm_client import SERVICE_CONFIG, AutoGLMClient, channel_options, channel_target


def test_targets_of_several_replicas() -> None:
    assert channel_target("127.0.0.1:1") == "127.0.0.1:1"
    assert channel_target(["127.0.0.1:1", "127.0.0.2:2"]) == "ipv4:127.0.0.1:1,127.0.0.2:2"
    assert channel_target(["[::1]:1", "[::2]:2"]) == "ipv6:[::1]:1,[::2]:2"
    assert channel_target(["dns:///autoglm:50051"]) == "dns:///autoglm:50051"
    with pytest.raises(ValueError, match="DNS name"):
        channel_target(["a.example:1", "b.example:1"])


def test_a_list_of_addresses_gets_round_robin_and_retries() -> None:
    assert channel_options("127.0.0.1:1") == []
    options = dict(channel_options(["127.0.0.1:1"]))
    config = json.loads(options["grpc.service_config"])
    assert config == SERVICE_CONFIG and config["loadBalancingConfig"] == [{"round_robin": {}}]
    assert config["methodConfig"][0]["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]


def test_calls_over_a_list_reach_a_live_replica_past_a_dead_one(server: LiveServer) -> None:
    # A port nothing listens on: round-robin skips it, the retry policy covers the first failure.
    with AutoGLMClient([_dead_address(), server.target], timeout=20) as client:
        assert all(client.generate("hi", max_new_tokens=2).usage.completion_tokens == 2 for _ in range(6))


def test_a_retried_create_with_the_same_request_id_creates_once(server: LiveServer) -> None:
    request_id = uuid.uuid4().hex
    with AutoGLMClient(server.target, timeout=10) as client:
        first = client.create_user("retried", age=3, request_id=request_id)
        assert client.create_user("retried", age=3, request_id=request_id) == first
        key = client.create_api_key(first.user_id, request_id=request_id)
        assert client.create_api_key(first.user_id, request_id=request_id) == key
        assert len(client.list_api_keys(first.user_id)) == 1
        with pytest.raises(grpc.RpcError) as refused:
            client.create_user("someone else", age=3, request_id=request_id)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _dead_address() -> str:
    """An address on loopback that refuses connections (its port was bound, then released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"127.0.0.1:{port}"
