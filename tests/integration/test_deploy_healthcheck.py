"""deploy/healthcheck.py (the image's HEALTHCHECK) against a live server and a dead port."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.conftest import RunningServer
from tests.integration.ops_support import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=30)


async def test_healthcheck_passes_on_a_ready_server_and_fails_on_a_dead_port(
    mock_server: RunningServer,
) -> None:
    ready = await asyncio.to_thread(_check, mock_server.target, "autoglm.v1.GenerationService")
    assert (ready.returncode, ready.stdout.strip()) == (0, "SERVING")
    dead = await asyncio.to_thread(_check, f"127.0.0.1:{free_port()}")
    assert dead.returncode == 1 and "unhealthy" in dead.stderr
