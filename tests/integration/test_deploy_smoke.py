"""Each shipped deployment's configuration, started for real: `autoglm serve` with exactly the
environment and config file that the Dockerfile plus compose, or plus a rendered overlay's
ConfigMap and Deployment, give it (tests/integration/shipped_env.py maps ports, volumes and other
services' host names onto loopback). It must become ready, answer health without a key, refuse a
call without one (auth is on), answer a Generate and the OpenAI HTTP API with the admin key, and
stop cleanly on SIGTERM.

The shipped configurations serve the real default model (backend transformers), so these runs do
too: the mock backend would not be the configuration that ships. Compose's second replica differs
from the first only in its host ports and trace attributes (test_deploy_configs.py checks that), so
one compose replica is started."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from autoglm_client import AutoGLMClient
from autoglm_client.errors import AutoGLMError
from autoglm_server.operations import BACKEND_SERVICES
from tests.integration import shipped_env
from tests.integration.shipped_env import Shipped

# Each run loads the real model: on a busy shared machine, minutes (the suite default is 300 s).
pytestmark = [pytest.mark.model, pytest.mark.timeout(1200)]

AUTOGLM = str(Path(sys.executable).with_name("autoglm"))
READY_TIMEOUT_S = 600.0  # a cold model load on a busy 2-core machine

DEPLOYMENTS: dict[str, Callable[[], Shipped]] = {
    "docker-run": shipped_env.docker_run,
    "compose-autoglm-a": lambda: shipped_env.compose("autoglm-a"),
    "k8s-dev": lambda: shipped_env.kubernetes("dev", "autoglm-v1"),
    "k8s-prod-v1": lambda: shipped_env.kubernetes("prod", "autoglm-v1"),
    "k8s-prod-v2-canary": lambda: shipped_env.kubernetes("prod", "autoglm-v2"),
    "k8s-edge": lambda: shipped_env.kubernetes("edge", "autoglm-v1"),
}


class Server:
    """`autoglm serve` (the image's CMD) in its own process, its output kept for failure messages."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.process = subprocess.Popen(
            [AUTOGLM, "serve"],
            env=env,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def tail(self) -> str:
        return "".join(self.output[-40:])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


def _wait_ready(server: Server, client: AutoGLMClient) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the server exited with {server.process.returncode}:\n{server.tail()}")
        try:
            if client.health(BACKEND_SERVICES[0]) == health_pb2.HealthCheckResponse.SERVING:
                return
        except AutoGLMError:
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(f"not ready after {READY_TIMEOUT_S:.0f} s:\n{server.tail()}")


def _http_get(url: str, key: str | None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(params=list(DEPLOYMENTS))
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Shipped, dict[str, int], Server]]:
    shipped = DEPLOYMENTS[request.param]()
    env, ports = shipped_env.on_this_machine(shipped, tmp_path)
    server = Server(env, tmp_path)
    try:
        yield shipped, ports, server
    finally:
        server.stop()


def test_the_shipped_configuration_serves_with_auth_on(
    deployment: tuple[Shipped, dict[str, int], Server],
) -> None:
    shipped, ports, server = deployment
    target = f"127.0.0.1:{ports['grpc']}"
    with (
        AutoGLMClient(target, timeout=300) as anonymous,
        AutoGLMClient(target, timeout=300, api_key=shipped.admin_key) as admin,
    ):
        _wait_ready(server, anonymous)
        assert anonymous.health("") == health_pb2.HealthCheckResponse.SERVING  # health needs no key

        with pytest.raises(AutoGLMError) as refused:
            anonymous.generate("Hello", max_new_tokens=4)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

        reply = admin.generate("What is the capital of France?", max_new_tokens=8)
        assert reply.text.strip(), server.tail()

    base = f"http://127.0.0.1:{ports['http']}/v1"
    status, body = _http_get(f"{base}/models", shipped.admin_key)
    assert status == 200, body
    assert json.loads(body)["data"], body
    assert _http_get(f"{base}/models", None)[0] == 401

    assert server.stop() == 0, server.tail()
