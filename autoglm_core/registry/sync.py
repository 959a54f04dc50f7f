"""Replicas converge on the registry's desired state in the shared database, by polling it.

Why polling rather than LISTEN/NOTIFY: one small read (two tiny tables) per interval per replica,
whatever the request rate, through the pool every other store uses; LISTEN needs a dedicated
connection per replica, driver-specific code, and a poll anyway to catch notifications missed while
that connection was down. With the default interval a split set through one replica holds on all
within about a second.

Each round: versions desired but not loaded here are loaded (in the background; a failed load is
retried after a pause and reported meanwhile), versions loaded here but no longer desired are
unloaded (drained first), and every changed split is applied as it is. A version that the split
gives traffic but that this replica could not load is reported (ListModels, metrics) and its share
of calls is refused as retryable, never served by another version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

from autoglm_core.registry.desired import DesiredState, DesiredVersion, Snapshot
from autoglm_core.registry.manager import BackendSpec, ModelManager
from autoglm_core.storage.polling import poll

log = logging.getLogger(__name__)

LOADING = "loading"
# A version whose load failed is tried again after this long (a model directory may appear later).
RETRY_FAILED_S = 30.0

Key = tuple[str, str]


class RegistrySync:
    """Keeps this replica's registry on the desired state."""

    def __init__(self, manager: ModelManager, desired: DesiredState, interval_s: float) -> None:
        self.manager = manager
        self.registry = manager.registry
        self.desired = desired
        self.interval_s = interval_s
        # The split revision applied here, per model.
        self.applied: dict[str, int] = {}
        self._loading: dict[Key, asyncio.Task[None]] = {}
        self._unloading: dict[Key, asyncio.Task[None]] = {}
        self._failed: dict[Key, tuple[float, str]] = {}
        # Versions an RPC on this replica is loading or unloading: the sync leaves them alone.
        self._held: set[Key] = set()
        self._loop: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def hold(self, name: str, version: str) -> Iterator[None]:
        """While an RPC here loads or unloads a version and then publishes it, the sync must not
        act on the moment between the two (and undo the RPC's work)."""
        self._held.add((name, version))
        try:
            yield
        finally:
            self._held.discard((name, version))

    async def start(self, boot: BackendSpec) -> None:
        """Publishes the version this replica started with (desired from now on, and the whole
        split when the model has none yet), loads the other desired versions, then keeps polling.

        The server reports ready only after this: a new replica does not take calls while it still
        loads versions that the split gives traffic (a version that fails to load is reported).
        """
        await self.desired.add_version(boot, {})
        if await self.desired.split(boot.name) is None:
            entry = self.registry.entry(boot.name)
            with contextlib.suppress(Exception):  # another replica published one first
                await self.desired.put_split(entry.name, dict(entry.weights), entry.sticky, [], 0)
        await self.converge()
        await asyncio.gather(*self._loading.values(), return_exceptions=True)
        await self.converge()
        self._loop = asyncio.create_task(
            poll(self.converge, self.interval_s, "registry"), name="autoglm-registry-sync"
        )

    async def stop(self) -> None:
        tasks = [t for t in (self._loop, *self._loading.values(), *self._unloading.values()) if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def converge(self) -> None:
        """One round: read the desired state and act on it."""
        snapshot = await self.desired.snapshot()
        self._reconcile_versions(snapshot.versions)
        for name, split in snapshot.splits.items():
            if self.applied.get(name) != split.revision and self.registry.apply_split(
                name, split.weights, split.sticky, split.history
            ):
                self.applied[name] = split.revision
        self._report_unavailable(snapshot)

    def _loaded(self) -> set[Key]:
        return {(e.name, v) for e in self.registry.entries() for v in e.versions}

    def _reconcile_versions(self, desired: dict[Key, DesiredVersion]) -> None:
        loaded = self._loaded() - self._held
        for key in sorted(set(desired) - loaded - self._held):
            failed = self._failed.get(key)
            retry_later = failed is not None and time.monotonic() - failed[0] < RETRY_FAILED_S
            if key not in self._loading and not self.manager.is_busy(*key) and not retry_later:
                self._loading[key] = asyncio.create_task(self._load(desired[key]))
        for key in sorted(loaded - set(desired) - self._held):
            if key not in self._unloading and not self.manager.is_busy(*key):
                self._unloading[key] = asyncio.create_task(self._unload(key))

    async def _load(self, want: DesiredVersion) -> None:
        key = (want.spec.name, want.spec.version)
        try:
            await self.manager.load(want.spec, metrics=want.metrics)
            self._failed.pop(key, None)
            self.applied.pop(want.spec.name, None)  # apply the split again, with this version in it
        except Exception as error:
            log.error("cannot load desired version %s@%s: %s", *key, error)
            self._failed[key] = (time.monotonic(), f"load failed: {error}")
        finally:
            self._loading.pop(key, None)

    async def _unload(self, key: Key) -> None:
        try:
            await self.manager.unload(*key)
        except Exception:
            log.warning("cannot unload %s@%s", *key, exc_info=True)
        finally:
            self._unloading.pop(key, None)

    def _report_unavailable(self, snapshot: Snapshot) -> None:
        loaded = self._loaded()
        for entry in self.registry.entries():
            missing = [v for (n, v) in snapshot.versions if n == entry.name and (n, v) not in loaded]
            failures = {
                v: self._failed[(entry.name, v)][1] for v in missing if (entry.name, v) in self._failed
            }
            entry.unavailable = {v: failures.get(v, LOADING) for v in missing}
