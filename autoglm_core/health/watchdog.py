"""Self-healing: a periodic check of every loaded version, and the cures it applies.

Each tick the watchdog
1. rolls back a canary (a version with a minority share of traffic) whose error rate over the last
   window crossed the threshold: its weight goes to 0, its share to the model's primary version;
2. restarts a backend that is broken: health() false (or raising, or slow), several calls in a row
   failed, or calls are inside it and none got a token for `stall_s` (wedged). While a restart runs
   the listener marks the server NOT_SERVING, so load balancers route around this replica; once
   every restart has succeeded it turns SERVING again. A restart that fails is retried next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from autoglm_core.backends.base import Backend
from autoglm_core.health.monitor import GenerationMonitor, ModelKey
from autoglm_core.registry.control import ModelControl
from autoglm_core.registry.manager import ModelManager
from autoglm_core.registry.models import ModelEntry
from autoglm_core.registry.versions import VersionState

log = logging.getLogger(__name__)

EVENT_RESTART = "backend_restart"
EVENT_RESTART_FAILED = "backend_restart_failed"
EVENT_CANARY_ROLLBACK = "canary_rollback"


class HealthListener(Protocol):
    """The server's health service, as the watchdog sees it."""

    async def degraded(self, reason: str) -> None:
        """A backend is being restarted: stop taking traffic (NOT_SERVING)."""

    async def recovered(self) -> None:
        """Every backend is healthy again (SERVING)."""


# Told about each cure: (event, (model, version)); the server counts them in its metrics.
EventSink = Callable[[str, ModelKey], None]


@dataclass(frozen=True)
class WatchdogConfig:
    """Thresholds of the watchdog (settings watchdog_* and canary_*)."""

    interval_s: float = 5.0
    # Calls inside a backend with no token for this long mean it is wedged.
    stall_s: float = 60.0
    # This many failed calls in a row mean the backend is broken.
    max_errors: int = 3
    # A health() call slower than this counts as failed.
    health_timeout_s: float = 10.0
    # A canary failing at least this share of its calls in the window is rolled back ...
    canary_error_rate: float = 0.5
    canary_window_s: float = 60.0
    # ... once it has served at least this many calls in the window.
    canary_min_calls: int = 10


class Watchdog:
    """Runs `check()` every `config.interval_s` seconds in a background task."""

    def __init__(
        self,
        manager: ModelManager,
        monitor: GenerationMonitor,
        config: WatchdogConfig,
        listener: HealthListener | None = None,
        on_event: EventSink | None = None,
        control: ModelControl | None = None,
    ) -> None:
        self.manager = manager
        # Canary rollbacks go through it, so that with replicas they change the shared split.
        self.control = control or ModelControl(manager)
        self.monitor = monitor
        self.config = config
        self.listener = listener
        self.on_event = on_event
        self._task: asyncio.Task[None] | None = None
        self._degraded = False

    def start(self) -> None:
        if self._task is None and self.config.interval_s > 0:
            self._task = asyncio.create_task(self._loop(), name="autoglm-watchdog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def check(self) -> None:
        """One round: canary rollbacks first (cheap, reversible), then restarts."""
        entries = self.manager.registry.entries()
        for entry in entries:
            await self._check_canaries(entry)
        broken = [
            (entry.name, version, reason)
            for entry in entries
            for version, backend in list(entry.versions.items())
            if (reason := await self._problem(entry, version, backend))
        ]
        if broken:
            await self._heal(broken)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.interval_s)
            try:
                await self.check()
            except Exception:  # the watchdog itself must survive anything it finds
                log.exception("watchdog check failed")

    async def _check_canaries(self, entry: ModelEntry) -> None:
        if len(entry.versions) < 2:
            return
        primary = entry.primary()
        for version, backend in entry.versions.items():
            if version == primary or entry.weights.get(version, 0) == 0:
                continue
            rate, calls = self.monitor.error_rate(backend, self.config.canary_window_s)
            if calls >= self.config.canary_min_calls and rate >= self.config.canary_error_rate:
                await self.control.take_traffic_from(entry.name, version)
                self.monitor.forget(backend)
                log.warning(
                    "canary %s@%s rolled back: %.0f%% of %d calls failed; traffic to %s",
                    entry.name,
                    version,
                    rate * 100,
                    calls,
                    primary,
                    extra={"event": EVENT_CANARY_ROLLBACK, "model": entry.name, "version": version},
                )
                self._emit(EVENT_CANARY_ROLLBACK, (entry.name, version))

    async def _problem(self, entry: ModelEntry, version: str, backend: Backend) -> str:
        """Why this version needs a restart ('' when it does not)."""
        state = entry.state(version)
        if self.manager.is_busy(entry.name, version) or state in (VersionState.DRAINING,):
            return ""
        if state is VersionState.FAILED:
            return "an earlier restart failed"
        if self.monitor.stalled(backend, self.config.stall_s):
            return f"no token for {self.config.stall_s:g}s while calls were running"
        errors = self.monitor.consecutive_errors(backend)
        if errors >= self.config.max_errors:
            return f"{errors} calls in a row failed"
        if not await self._healthy(backend):
            return "health check failed"
        return ""

    async def _healthy(self, backend: Backend) -> bool:
        try:
            return await asyncio.wait_for(backend.health(), self.config.health_timeout_s)
        except Exception:
            return False

    async def _heal(self, broken: list[tuple[str, str, str]]) -> None:
        if self.listener is not None and not self._degraded:
            await self.listener.degraded("; ".join(f"{n}@{v}: {why}" for n, v, why in broken))
        self._degraded = True
        ok = True
        for name, version, reason in broken:
            ok = await self._restart(name, version, reason) and ok
        if ok:
            self._degraded = False
            if self.listener is not None:
                await self.listener.recovered()

    async def _restart(self, name: str, version: str, reason: str) -> bool:
        extra = {"model": name, "version": version, "reason": reason}
        log.warning("restarting %s@%s: %s", name, version, reason, extra={"event": EVENT_RESTART, **extra})
        try:
            await self.manager.restart(name, version)
        except Exception:
            log.exception("restart of %s@%s failed", name, version, extra={"event": EVENT_RESTART_FAILED})
            self._emit(EVENT_RESTART_FAILED, (name, version))
            return False
        log.info("%s@%s restarted", name, version)
        self._emit(EVENT_RESTART, (name, version))
        return True

    def _emit(self, event: str, model: ModelKey) -> None:
        if self.on_event is not None:
            self.on_event(event, model)
