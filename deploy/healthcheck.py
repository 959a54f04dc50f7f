#!/usr/bin/env python3
"""Exit 0 when a gRPC health service answers SERVING, else 1 (Docker HEALTHCHECK, compose).

Usage: healthcheck.py [HOST:PORT] [SERVICE]   (defaults: 127.0.0.1:50051, "" = the whole server)
grpc_health_probe is not installable here; this needs only grpcio and grpcio-health-checking,
which the server has anyway.
"""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else "127.0.0.1:50051"
    service = argv[2] if len(argv) > 2 else ""
    try:
        with grpc.insecure_channel(target) as channel:
            request = health_pb2.HealthCheckRequest(service=service)
            reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=3)
    except grpc.RpcError as error:
        print(f"unhealthy: {error.code().name}", file=sys.stderr)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(status)
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
