"""Talking to several replicas: a gRPC service config with round-robin over every address and
retries of calls that fail with UNAVAILABLE (a replica that died, drains, or has not loaded the
version a call drew), so that they land on another replica.

    client = AutoGLMClient(["10.0.0.5:50051", "10.0.0.6:50051"])   # a list: this config
    channel = grpc.insecure_channel(channel_target(addresses), options=channel_options(addresses))

or, where one DNS name resolves to every replica (a Kubernetes headless Service), a list of that
one name: `AutoGLMClient(["dns:///autoglm.default.svc.cluster.local:50051"])`.

A retried create call is not created twice: the client sends a request id with it (generated once
per call, so every retry carries the same one) and every replica answers a repeated id with the
first call's result.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

_SERVICES = ("GenerationService", "ModelService", "UserService", "ToolService", "MemoryService")

SERVICE_CONFIG: dict[str, Any] = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [
        {
            "name": [{"service": f"autoglm.v1.{service}"} for service in _SERVICES],
            "retryPolicy": {
                "maxAttempts": 5,
                "initialBackoff": "0.1s",
                "maxBackoff": "2s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
}


def channel_options(target: str | Sequence[str] | None = None) -> list[tuple[str, Any]]:
    """Channel options that install SERVICE_CONFIG, for a list of replicas (or when no target is
    given). A single address given as a string gets none: calls then fail as the server answers,
    and the caller decides about retries."""
    if isinstance(target, str):
        return []
    return [("grpc.service_config", json.dumps(SERVICE_CONFIG)), ("grpc.enable_retries", 1)]


def channel_target(addresses: str | Sequence[str]) -> str:
    """One gRPC target for one address, a DNS name, or several `ip:port` addresses of replicas."""
    if isinstance(addresses, str):
        return addresses
    if len(addresses) == 1:
        return addresses[0]
    if not addresses:
        raise ValueError("no address given")
    families = {_family(address) for address in addresses}
    if len(families) != 1:
        raise ValueError("give IPv4 or IPv6 addresses, not both, or one DNS name for all replicas")
    return f"{families.pop()}:{','.join(addresses)}"


def _family(address: str) -> str:
    host = address.rsplit(":", 1)[0].strip("[]")
    try:
        return "ipv4" if ipaddress.ip_address(host).version == 4 else "ipv6"
    except ValueError:
        raise ValueError(
            f"{address!r}: several replicas are listed by IP address; for host names use one DNS "
            "name that resolves to every replica (dns:///name:port)"
        ) from None
