"""What ModelService changes: load/unload and the traffic split, on this server alone or, with a
shared database, through the desired state that every replica converges on (registry/sync.py)."""

from __future__ import annotations

from collections.abc import Callable

from autoglm_core.registry.desired import SplitConflict
from autoglm_core.registry.manager import BackendSpec, ModelManager
from autoglm_core.registry.models import ModelEntry, ModelRegistry
from autoglm_core.registry.sync import RegistrySync

# Attempts of a split change that keeps losing the compare-and-set to other replicas.
_SPLIT_ATTEMPTS = 5


class ModelControl:
    """The registry's changes; `sync` is None for one process, else the shared desired state."""

    def __init__(self, manager: ModelManager, sync: RegistrySync | None = None) -> None:
        self.manager = manager
        self.registry: ModelRegistry = manager.registry
        self.sync = sync

    async def load(self, spec: BackendSpec, metrics: dict[str, float]) -> ModelEntry:
        """Loads here first (so a bad spec fails the call), then asks every replica to load it."""
        if self.sync is None:
            return await self.manager.load(spec, metrics=metrics)
        with self.sync.hold(spec.name, spec.version):
            entry = await self.manager.load(spec, metrics=metrics)
            await self.sync.desired.add_version(spec, metrics)
        if await self.sync.desired.split(entry.name) is None:  # a new model: publish its split too
            await self._change(entry.name, lambda: entry)
        return entry

    async def unload(self, name: str, version: str, timeout_s: float | None) -> int:
        """Moves the version's traffic away everywhere, stops every replica loading it, drains it here."""
        if self.sync is None:
            return await self.manager.unload(name, version, timeout_s)
        canonical = self.registry.entry(name).name
        with self.sync.hold(canonical, version):
            await self._change(canonical, lambda: self.registry.take_traffic_from(canonical, version))
            await self.sync.desired.remove_version(canonical, version)
            return await self.manager.unload(canonical, version, timeout_s)

    async def set_split(self, name: str, weights: dict[str, int], sticky: bool) -> ModelEntry:
        return await self._change(name, lambda: self.registry.set_weights(name, weights, sticky))

    async def promote(self, name: str, version: str) -> ModelEntry:
        return await self._change(name, lambda: self.registry.promote(name, version))

    async def rollback(self, name: str) -> ModelEntry:
        return await self._change(name, lambda: self.registry.rollback(name))

    async def take_traffic_from(self, name: str, version: str) -> ModelEntry:
        """A canary's share to the primary (the watchdog's rollback)."""
        return await self._change(name, lambda: self.registry.take_traffic_from(name, version))

    async def _change(self, name: str, change: Callable[[], ModelEntry]) -> ModelEntry:
        """Applies change to the latest shared split and publishes the result (compare-and-set)."""
        if self.sync is None:
            return change()
        canonical = self.registry.entry(name).name
        for _ in range(_SPLIT_ATTEMPTS):
            split = await self.sync.desired.split(canonical)
            if split is not None:
                self.registry.apply_split(canonical, split.weights, split.sticky, split.history)
            entry = change()
            try:
                revision = await self.sync.desired.put_split(
                    entry.name,
                    dict(entry.weights),
                    entry.sticky,
                    entry.history,
                    split.revision if split else 0,
                )
            except SplitConflict:
                continue
            except Exception:  # not published: the next sync round restores the shared split here
                self.sync.applied.pop(canonical, None)
                raise
            self.sync.applied[entry.name] = revision
            return entry
        # Several replicas kept changing it: the next sync round restores the shared split here.
        self.sync.applied.pop(canonical, None)
        raise SplitConflict(canonical)
