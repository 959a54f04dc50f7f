"""The models a server (or an in-process AutoGLM) can serve, addressed as alias, name or name@version.

Several versions of a model may be loaded side by side; traffic weights decide which version serves
a request that does not pin one. With `sticky`, the same routing key (user or session) always lands
on the same version, so a conversation does not hop between versions mid-way.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from autoglm_core.backends.base import Backend
from autoglm_core.errors import FailedPrecondition, InvalidArgument, NotFound


@dataclass
class ModelEntry:
    """One model name with its loaded versions."""

    name: str
    aliases: set[str] = field(default_factory=set)
    versions: dict[str, Backend] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)
    sticky: bool = True

    def pick_version(self, routing_key: str) -> str:
        weighted = [(v, w) for v, w in sorted(self.weights.items()) if w > 0 and v in self.versions]
        if not weighted:
            raise FailedPrecondition(f"model {self.name!r} has no version with traffic")
        total = sum(w for _, w in weighted)
        if self.sticky and routing_key:
            digest = hashlib.sha256(f"{self.name}/{routing_key}".encode()).digest()
            point = int.from_bytes(digest[:8], "big") % total
        else:
            point = random.randrange(total)
        for version, weight in weighted:
            if point < weight:
                return version
            point -= weight
        return weighted[-1][0]


class ModelRegistry:
    """Resolves model references to loaded backends."""

    def __init__(self) -> None:
        self._models: dict[str, ModelEntry] = {}
        self._aliases: dict[str, str] = {}
        self.default_model = ""

    def add(self, backend: Backend, aliases: tuple[str, ...] = ()) -> None:
        """Registers a loaded version. The first version of a model takes all its traffic."""
        info = backend.info
        entry = self._models.setdefault(info.name, ModelEntry(name=info.name))
        entry.versions[info.version] = backend
        entry.weights.setdefault(info.version, 0 if len(entry.versions) > 1 else 100)
        for alias in aliases:
            entry.aliases.add(alias)
            self._aliases[alias] = info.name
        if not self.default_model:
            self.default_model = info.name

    def remove(self, name: str, version: str) -> Backend:
        entry = self.entry(name)
        backend = entry.versions.pop(version, None)
        if backend is None:
            raise NotFound("model version", f"{name}@{version}")
        entry.weights.pop(version, None)
        if not entry.versions:
            del self._models[entry.name]
            for alias in entry.aliases:
                self._aliases.pop(alias, None)
        return backend

    def entry(self, name: str) -> ModelEntry:
        canonical = self._aliases.get(name, name or self.default_model)
        entry = self._models.get(canonical)
        if entry is None:
            raise NotFound("model", name)
        return entry

    def entries(self) -> list[ModelEntry]:
        return [self._models[n] for n in sorted(self._models)]

    def resolve(self, reference: str, routing_key: str = "") -> Backend:
        """Backend for 'alias', 'name' or 'name@version' ('' is the default model)."""
        name, _, version = reference.partition("@")
        entry = self.entry(name)
        if not version:
            version = entry.pick_version(routing_key)
        backend = entry.versions.get(version)
        if backend is None:
            # Never fall back to another version silently (the TGI #2505 failure).
            raise NotFound("model version", f"{entry.name}@{version}")
        return backend

    def set_weights(self, name: str, weights: dict[str, int], sticky: bool) -> ModelEntry:
        entry = self.entry(name)
        unknown = sorted(set(weights) - set(entry.versions))
        if unknown:
            raise InvalidArgument.one("weights", f"unknown versions: {', '.join(unknown)}")
        if sum(weights.values()) != 100:
            raise InvalidArgument.one("weights", "weights must add up to 100")
        entry.weights = {v: weights.get(v, 0) for v in entry.versions}
        entry.sticky = sticky
        return entry

    def backends(self) -> list[Backend]:
        return [b for e in self.entries() for b in e.versions.values()]
