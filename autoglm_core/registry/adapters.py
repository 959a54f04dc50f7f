"""Finding the adapter stores of the registry's versions (for ModelService's adapter RPCs)."""

from __future__ import annotations

from dataclasses import dataclass

from autoglm_core.adapters.store import AdapterStore
from autoglm_core.errors import FailedPrecondition, NotFound
from autoglm_core.registry.models import ModelRegistry


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
