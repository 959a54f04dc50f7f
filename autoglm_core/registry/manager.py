"""Loading, unloading and restarting model versions while the server runs, without dropping calls.

- load: builds a backend with the factory, loads it, then registers it with no traffic (a new
  version takes traffic only when told to: SetTrafficSplit, promote).
- unload: moves the version's traffic to the others, refuses it new calls, waits until every call
  that already chose it has finished (queued ones included), and only then closes it.
- restart (the watchdog's cure): close, then a fresh backend from the factory for the same source,
  swapped in under the same name and version, keeping its traffic share and metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from autoglm_core.backends.base import Backend
from autoglm_core.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, NotReady
from autoglm_core.registry.adapters import carry_adapters
from autoglm_core.registry.models import ModelEntry, ModelRegistry
from autoglm_core.registry.versions import VersionState, check_semver

log = logging.getLogger(__name__)

_DRAIN_POLL_S = 0.05


@dataclass(frozen=True)
class BackendSpec:
    """What a backend factory needs to build one model version."""

    # Local model directory, GGUF file or known alias.
    source: str
    # Name and version to serve it under.
    name: str
    version: str
    # Runtime kind ("transformers", "mock"); "" means the server's default.
    backend: str = ""


# Builds an unloaded backend for a spec (the server's container provides one).
BackendFactory = Callable[[BackendSpec], Backend]


class InFlight(Protocol):
    """What the manager needs of the health monitor: calls still running on a backend."""

    def in_flight(self, backend: Backend) -> int: ...

    def forget(self, backend: Backend) -> None: ...


class ModelManager:
    """The lifecycle of the registry's versions."""

    def __init__(
        self,
        registry: ModelRegistry,
        monitor: InFlight,
        factory: BackendFactory,
        drain_timeout_s: float = 300.0,
    ) -> None:
        self.registry = registry
        self.monitor = monitor
        self.factory = factory
        self.drain_timeout_s = drain_timeout_s
        self._specs: dict[tuple[str, str], BackendSpec] = {}
        self._busy: set[tuple[str, str]] = set()
        self._draining: list[Backend] = []

    def add(
        self,
        backend: Backend,
        spec: BackendSpec,
        aliases: tuple[str, ...] = (),
        metrics: dict[str, float] | None = None,
    ) -> None:
        """Registers a backend that is loaded already (the one the server starts with)."""
        self.registry.add(backend, aliases=aliases, metrics=metrics)
        self._specs[(backend.info.name, backend.info.version)] = spec

    async def load(
        self, spec: BackendSpec, metrics: dict[str, float] | None = None, aliases: tuple[str, ...] = ()
    ) -> ModelEntry:
        """Loads another version side by side; it gets no traffic until told to."""
        if not spec.name:
            raise InvalidArgument.one("name", "a model name is required")
        check_semver(spec.version)
        if not spec.source:
            raise InvalidArgument.one("source", "a local path or a known alias is required")
        key = (spec.name, spec.version)
        if key in self._busy or self._loaded(spec.name, spec.version):
            raise AlreadyExists(f"{spec.name}@{spec.version} is loaded or loading already")
        self._busy.add(key)
        try:
            backend = self.factory(spec)
            await backend.load()
            if (backend.info.name, backend.info.version) != key:
                await backend.close()
                raise FailedPrecondition(
                    f"the backend named itself {backend.info.name}@{backend.info.version}"
                )
            self.add(backend, spec, aliases=aliases, metrics=metrics)
        finally:
            self._busy.discard(key)
        log.info("loaded %s@%s from %s", spec.name, spec.version, spec.source)
        return self.registry.entry(spec.name)

    async def unload(self, name: str, version: str, timeout_s: float | None = None) -> int:
        """Drains then closes a version; returns how many calls were in flight when it began."""
        entry = self.registry.entry(name)
        backend = entry.versions.get(version)
        if backend is None:
            raise NotFound("model version", f"{entry.name}@{version}")
        key = (entry.name, version)
        if key in self._busy:
            raise FailedPrecondition(f"{entry.name}@{version} is being loaded, restarted or unloaded")
        self._busy.add(key)
        try:
            self.registry.take_traffic_from(entry.name, version)
            self.registry.set_state(entry.name, version, VersionState.DRAINING)
            in_flight = self.monitor.in_flight(backend)
            log.info("unloading %s@%s: draining %d calls", entry.name, version, in_flight)
            await self._drain(backend, self.drain_timeout_s if timeout_s is None else timeout_s)
            self.registry.remove(entry.name, version)
            self._specs.pop(key, None)
            await backend.close()
            self.monitor.forget(backend)
        finally:
            self._busy.discard(key)
        log.info("unloaded %s@%s", entry.name, version)
        return in_flight

    async def restart(self, name: str, version: str) -> Backend:
        """Closes a version's backend and loads a fresh one from the factory in its place."""
        key = (name, version)
        spec = self._specs.get(key)
        if spec is None:
            raise NotFound("model version", f"{name}@{version}")
        if key in self._busy:
            raise FailedPrecondition(f"{name}@{version} is busy")
        self._busy.add(key)
        try:
            # No new calls while it restarts; calls stuck inside the old backend end when it closes.
            self.registry.set_state(name, version, VersionState.LOADING)
            old = self.registry.entry(name).versions[version]
            await _close_quietly(old)
            self.monitor.forget(old)
            fresh = self.factory(spec)
            try:
                await fresh.load()
            except Exception:
                self.registry.set_state(name, version, VersionState.FAILED)
                raise
            await carry_adapters(old, fresh)
            self.registry.replace(name, version, fresh)
            self.registry.set_state(name, version, VersionState.READY)
            return fresh
        finally:
            self._busy.discard(key)

    def spec(self, name: str, version: str) -> BackendSpec:
        """What a loaded version was built from."""
        spec = self._specs.get((name, version))
        if spec is None:
            raise NotFound("model version", f"{name}@{version}")
        return spec

    def is_busy(self, name: str, version: str) -> bool:
        return (name, version) in self._busy

    async def close_all(self) -> None:
        for backend in [*self.registry.backends(), *self._draining]:
            await _close_quietly(backend)

    async def _drain(self, backend: Backend, timeout_s: float) -> None:
        self._draining.append(backend)
        try:
            give_up_at = time.monotonic() + timeout_s
            while self.monitor.in_flight(backend) and time.monotonic() < give_up_at:
                await asyncio.sleep(_DRAIN_POLL_S)
            if self.monitor.in_flight(backend):
                log.warning("drain timed out after %.0fs: closing with calls in flight", timeout_s)
        finally:
            self._draining.remove(backend)

    def _loaded(self, name: str, version: str) -> bool:
        try:
            return version in self.registry.entry(name).versions
        except (NotFound, NotReady):
            return False


async def _close_quietly(backend: Backend) -> None:
    try:
        await backend.close()
    except Exception:  # a broken backend may fail to close; it is being replaced anyway
        log.warning("closing %s@%s failed", backend.info.name, backend.info.version, exc_info=True)
