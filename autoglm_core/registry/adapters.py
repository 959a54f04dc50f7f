"""Finding the adapter stores of the registry's versions (for ModelService's adapter RPCs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoglm_core.backends.base import Backend
from autoglm_core.errors import EngineError, FailedPrecondition, NotFound
from autoglm_core.registry.models import ModelRegistry

if TYPE_CHECKING:  # the store imports torch: a mock server never loads it
    from autoglm_core.adapters.store import AdapterStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VersionAdapters:
    """One loaded version and its adapters."""

    model: str
    version: str
    store: AdapterStore


def adapters_of(registry: ModelRegistry, reference: str) -> VersionAdapters:
    """The store of 'name@version' (or of the model's primary version); FAILED_PRECONDITION where the
    version's runner cannot apply adapters."""
    name, _, version = reference.partition("@")
    entry = registry.entry(name)
    version = version or entry.primary()
    backend = entry.versions.get(version)
    if backend is None:
        raise NotFound("model version", f"{entry.name}@{version}")
    store = getattr(backend, "adapters", None)  # optional: only backends that apply adapters have one
    if store is None:
        raise FailedPrecondition(
            f"{entry.name}@{version} does not serve adapters (they need the transformers backend's"
            " lean decoder: a Llama-family model on CPU)"
        )
    return VersionAdapters(entry.name, version, store)


def all_adapters(registry: ModelRegistry, reference: str = "") -> list[VersionAdapters]:
    """Every version's store for a model (all models when `reference` is empty); versions without
    adapter support are left out."""
    name, _, version = reference.partition("@")
    entries = [registry.entry(name)] if name else registry.entries()
    found = []
    for entry in entries:
        for v, backend in sorted(entry.versions.items()):
            store = getattr(backend, "adapters", None)
            if store is not None and (not version or v == version):
                found.append(VersionAdapters(entry.name, v, store))
    return found


async def carry_adapters(old: Backend, fresh: Backend) -> None:
    """Registers the old backend's adapters on its replacement (a watchdog restart), so calls naming
    them keep working; one that cannot be read again is logged and left out (its calls: NOT_FOUND)."""
    old_store, fresh_store = getattr(old, "adapters", None), getattr(fresh, "adapters", None)
    if old_store is None or fresh_store is None:
        return
    for record in old_store.records():
        if record.draining:
            continue
        try:
            await fresh_store.load(record.name, record.source)
        except EngineError as exc:
            log.warning("adapter %s not restored after a restart: %s", record.name, exc)
