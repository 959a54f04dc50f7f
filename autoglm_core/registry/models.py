"""The models a server (or an in-process AutoGLM) can serve, addressed as alias, name or name@version.

Several versions of a model may be loaded side by side; traffic weights decide which version serves
a request that does not pin one. With `sticky`, the same routing key (user or session) always lands
on the same version, so a conversation does not hop between versions mid-way. Each change of the
weights is remembered, so a rollback restores the split that was in force before it.

A reference may name an adapter of the version (`name@version:adapter`, `name:adapter`), and a split
may send a share of a model's calls to `version:adapter` (the base version plus that adapter): a
canary of an adapter. An adapter that the version does not have is NOT_FOUND, never the base model.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from autoglm_core.backends.base import Backend
from autoglm_core.errors import FailedPrecondition, InvalidArgument, NotFound, NotReady
from autoglm_core.registry.versions import VersionMeta, VersionState, check_semver, semver_key

# How many earlier splits a model remembers for rollback.
_HISTORY = 20

# Told (model name, version or None for all its versions) when what serves that name changes.
ChangeListener = Callable[[str, str | None], None]


@dataclass
class ModelEntry:
    """One model name with its loaded versions."""

    name: str
    aliases: set[str] = field(default_factory=set)
    versions: dict[str, Backend] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)
    sticky: bool = True
    meta: dict[str, VersionMeta] = field(default_factory=dict)
    # Earlier traffic splits, newest last (what rollback restores).
    history: list[dict[str, int]] = field(default_factory=list)
    # Versions the shared desired state names that this server has not loaded, and why ("loading",
    # or the load's error). With replicas, the split may give them traffic: see pick_version.
    unavailable: dict[str, str] = field(default_factory=dict)

    def state(self, version: str) -> VersionState:
        meta = self.meta.get(version)
        return meta.state if meta else VersionState.READY

    def pick_version(self, routing_key: str) -> str:
        """A traffic target: "version" or "version:adapter".

        A version of the shared split that this replica has not loaded keeps its share: the calls
        it draws are refused as retryable (another replica serves them), never served by another."""
        weighted = [
            (v, w)
            for v, w in sorted(self.weights.items())
            if w > 0 and (version_of(v) in self.versions or version_of(v) in self.unavailable)
        ]
        if not weighted:
            raise FailedPrecondition(f"model {self.name!r} has no version with traffic")
        # A version being restarted or drained takes no new calls; its share goes to the others.
        ready = [(v, w) for v, w in weighted if self._takes_calls(version_of(v))]
        if not ready:
            raise NotReady(f"model {self.name!r} is restarting; retry shortly")
        total = sum(w for _, w in ready)
        if self.sticky and routing_key:
            digest = hashlib.sha256(f"{self.name}/{routing_key}".encode()).digest()
            point = int.from_bytes(digest[:8], "big") % total
        else:
            point = random.randrange(total)
        for version, weight in ready:
            if point < weight:
                return self._here(version)
            point -= weight
        return self._here(ready[-1][0])

    def _takes_calls(self, version: str) -> bool:
        if version in self.versions:
            return self.state(version) is VersionState.READY
        return version in self.unavailable

    def _here(self, target: str) -> str:
        version = version_of(target)
        # The sync's report may lag a load that has just finished: a loaded version is served.
        if version in self.unavailable and version not in self.versions:
            raise NotReady(
                f"{self.name}@{version} takes traffic but is not loaded on this replica "
                f"({self.unavailable[version]}); retry on another"
            )
        return target

    def primary(self) -> str:
        """The version with the most traffic (ties: the highest version)."""
        return max(self.versions, key=lambda v: (self.weights.get(v, 0), semver_key(v)))

    def record_split(self) -> None:
        self.history = [*self.history, dict(self.weights)][-_HISTORY:]


class ModelRegistry:
    """Resolves model references to loaded backends."""

    def __init__(self) -> None:
        self._models: dict[str, ModelEntry] = {}
        self._aliases: dict[str, str] = {}
        self.default_model = ""
        # Called on load, unload, traffic changes, promote and rollback (the response cache's
        # invalidation listens here).
        self.listeners: list[ChangeListener] = []

    def _changed(self, name: str, version: str | None = None) -> None:
        for listener in self.listeners:
            listener(name, version)

    def add(
        self,
        backend: Backend,
        aliases: tuple[str, ...] = (),
        metrics: dict[str, float] | None = None,
    ) -> None:
        """Registers a loaded version. The first version of a model takes all its traffic."""
        info = backend.info
        check_semver(info.version)
        entry = self._models.setdefault(info.name, ModelEntry(name=info.name))
        if info.version in entry.versions:
            raise InvalidArgument.one("version", f"{info.name}@{info.version} is loaded already")
        entry.versions[info.version] = backend
        entry.meta[info.version] = VersionMeta(metrics=dict(metrics or {}))
        entry.weights.setdefault(info.version, 0 if len(entry.versions) > 1 else 100)
        for alias in aliases:
            entry.aliases.add(alias)
            self._aliases[alias] = info.name
        if not self.default_model:
            self.default_model = info.name
        self._changed(info.name, info.version)

    def remove(self, name: str, version: str) -> Backend:
        entry = self.entry(name)
        backend = entry.versions.pop(version, None)
        if backend is None:
            raise NotFound("model version", f"{name}@{version}")
        entry.weights.pop(version, None)
        entry.meta.pop(version, None)
        if not entry.versions:
            del self._models[entry.name]
            for alias in entry.aliases:
                self._aliases.pop(alias, None)
            if self.default_model == entry.name:
                self.default_model = next(iter(sorted(self._models)), "")
        self._changed(entry.name, version)
        return backend

    def replace(self, name: str, version: str, backend: Backend) -> None:
        """Swaps in a new backend for a version (after a restart), keeping its traffic and metrics."""
        entry = self.entry(name)
        if version not in entry.versions:
            raise NotFound("model version", f"{name}@{version}")
        entry.versions[version] = backend

    def current(self, backend: Backend) -> Backend:
        """The backend serving `backend`'s version now: itself, or the fresh one a restart swapped in.

        A call resolved before it queued asks again before it runs: NotReady while its version
        restarts or after it was unloaded (retryable), never the closed backend's own error.
        """
        info = backend.info
        entry = self._models.get(info.name)
        now = entry.versions.get(info.version) if entry is not None else None
        if entry is None or now is None:
            raise NotReady(f"{info.name}@{info.version} was unloaded; retry")
        if entry.state(info.version) in (VersionState.LOADING, VersionState.FAILED):
            raise NotReady(f"{info.name}@{info.version} is restarting; retry shortly")
        return now

    def set_state(self, name: str, version: str, state: VersionState) -> None:
        entry = self.entry(name)
        meta = entry.meta.setdefault(version, VersionMeta())
        meta.state = state

    def entry(self, name: str) -> ModelEntry:
        if not self._models:
            # Nothing loaded yet (the server is starting): a name cannot be judged, so retry later.
            raise NotReady("no model is loaded yet; retry shortly")
        canonical = self._aliases.get(name, name or self.default_model)
        entry = self._models.get(canonical)
        if entry is None:
            raise NotFound("model", name)
        return entry

    def entries(self) -> list[ModelEntry]:
        return [self._models[n] for n in sorted(self._models)]

    def resolve(self, reference: str, routing_key: str = "") -> Backend:
        """Backend for 'alias', 'name' or 'name@version' ('' is the default model)."""
        return self.resolve_target(reference, routing_key)[0]

    def resolve_target(self, reference: str, routing_key: str = "", adapter: str = "") -> tuple[Backend, str]:
        """Backend and adapter ("" for none) for a reference, an optional `:adapter` suffix, the
        request's own `adapter` field, and the traffic split (which may pick `version:adapter`)."""
        reference, _, named = reference.partition(":")
        if adapter and named and adapter != named:
            raise InvalidArgument.one("adapter", f"{adapter!r} differs from the model's adapter {named!r}")
        name, _, version = reference.partition("@")
        entry = self.entry(name)
        if not version:
            version, _, routed = entry.pick_version(routing_key).partition(":")
            named = named or routed
        adapter = adapter or named
        backend = entry.versions.get(version)
        if backend is None:
            # Never fall back to another version silently (the TGI #2505 failure).
            raise NotFound("model version", f"{entry.name}@{version}")
        if entry.state(version) is not VersionState.READY:
            raise NotReady(f"{entry.name}@{version} is {entry.state(version).value}; retry shortly")
        if adapter:
            check_adapter(backend, adapter)
        return backend, adapter

    def set_weights(self, name: str, weights: dict[str, int], sticky: bool | None = None) -> ModelEntry:
        """Sets the split (versions left out get 0); the old split is kept for rollback."""
        entry = self.entry(name)
        unknown = sorted({version_of(v) for v in weights} - set(entry.versions))
        if unknown:
            raise InvalidArgument.one("weights", f"unknown versions: {', '.join(unknown)}")
        for target in weights:
            version, _, adapter = target.partition(":")
            if adapter:
                check_adapter(entry.versions[version], adapter)
        if sum(weights.values()) != 100:
            raise InvalidArgument.one("weights", "weights must add up to 100")
        draining = [
            v for v, w in weights.items() if w > 0 and entry.state(version_of(v)) is VersionState.DRAINING
        ]
        if draining:
            raise FailedPrecondition(f"versions being unloaded cannot take traffic: {', '.join(draining)}")
        entry.record_split()
        entry.weights = {**{v: 0 for v in entry.versions}, **weights}
        if sticky is not None:
            entry.sticky = sticky
        self._changed(entry.name)
        return entry

    def promote(self, name: str, version: str) -> ModelEntry:
        """All traffic to one version."""
        entry = self.entry(name)
        if version not in entry.versions:
            raise NotFound("model version", f"{entry.name}@{version}")
        return self.set_weights(entry.name, {version: 100})

    def rollback(self, name: str) -> ModelEntry:
        """Restores the split in force before the last change (versions since unloaded get 0)."""
        entry = self.entry(name)
        while entry.history:
            previous = entry.history.pop()
            weights = {v: w for v, w in previous.items() if version_of(v) in entry.versions}
            if sum(weights.values()) == 100:
                entry.weights = {**{v: 0 for v in entry.versions}, **weights}
                self._changed(entry.name)
                return entry
        raise FailedPrecondition(f"model {entry.name!r} has no earlier traffic split to restore")

    def apply_split(
        self, name: str, weights: dict[str, int], sticky: bool, history: list[dict[str, int]]
    ) -> bool:
        """Takes a split from the shared desired state as it is (its versions may not all be loaded
        here); False when this server has no version of the model yet."""
        entry = self._models.get(name)
        if entry is None:
            return False
        entry.weights = {**{v: 0 for v in entry.versions}, **weights}
        entry.sticky = sticky
        entry.history = [dict(split) for split in history][-_HISTORY:]
        return True

    def take_traffic_from(self, name: str, version: str) -> ModelEntry:
        """Weight 0 for `version`; its share goes to the primary of the others (canary rollback, unload)."""
        entry = self.entry(name)
        share = entry.weights.get(version, 0)
        others = [v for v in entry.versions if v != version]
        if share == 0 or not others:
            return entry
        target = max(others, key=lambda v: (entry.weights.get(v, 0), semver_key(v)))
        entry.record_split()
        entry.weights = {**entry.weights, version: 0, target: entry.weights.get(target, 0) + share}
        self._changed(entry.name)
        return entry

    def backends(self) -> list[Backend]:
        return [b for e in self.entries() for b in e.versions.values()]


def version_of(target: str) -> str:
    """The version of a traffic target ("1.2.0" or "1.2.0:adapter")."""
    return target.partition(":")[0]


def check_adapter(backend: Backend, adapter: str) -> None:
    """NOT_FOUND (with ResourceInfo) unless `backend` has `adapter` loaded: never the base model instead."""
    store = getattr(backend, "adapters", None)  # optional: backends that serve adapters have a store
    if store is None:
        info = backend.info
        raise NotFound("adapter", f"{info.name}@{info.version}:{adapter}")
    store.record(adapter)
