"""The adapters of one loaded model version: registered by name, a bounded number resident.

- load: reads and validates the directory (LoRA or bottleneck: files.py) off the event loop; the
  adapter is registered and resident.
- resident adapters are bounded (`max_resident`): making room evicts the least recently used idle one.
  An evicted adapter stays registered and is read again from its directory when a request names it;
  when every resident adapter is busy, the request is RESOURCE_EXHAUSTED (retry), never the base model.
- acquire/release bracket each generation: an unknown, unloaded or draining adapter is NOT_FOUND.
- unload: new requests are refused at once; it waits for the running ones, then forgets the adapter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from autoglm_core.adapters.files import read_adapter
from autoglm_core.adapters.lora_files import LoadedAdapter
from autoglm_core.adapters.shapes import BaseShapes
from autoglm_core.errors import AlreadyExists, InvalidArgument, NotFound, QueueFull
from autoglm_core.runtime.lora import LoraWeights

log = logging.getLogger(__name__)

_DRAIN_POLL_S = 0.02
# When every resident adapter is busy: a retry after this long usually finds one idle.
_RETRY_S = 1.0
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass
class AdapterStats:
    """Counters per adapter (metrics and ListAdapters)."""

    requests: int = 0
    generated_tokens: int = 0
    loads: int = 0
    evictions: int = 0


@dataclass
class AdapterRecord:
    """One registered adapter."""

    name: str
    source: str
    kind: str
    rank: int
    targets: tuple[str, ...]
    # The weights while resident; None once evicted (read again on use).
    loaded: LoadedAdapter | None
    in_flight: int = 0
    draining: bool = False
    stats: AdapterStats = field(default_factory=AdapterStats)

    @property
    def resident(self) -> bool:
        return self.loaded is not None


class AdapterStore:
    """Adapters of one model version, for its backend and its runner."""

    def __init__(self, shapes: BaseShapes, max_resident: int, label: str) -> None:
        if max_resident < 1:
            raise InvalidArgument.one("max_resident_adapters", "must be at least 1")
        self.shapes = shapes
        self.max_resident = max_resident
        # "name@version", for messages and NOT_FOUND details.
        self.label = label
        self._records: dict[str, AdapterRecord] = {}
        # Resident adapters, least recently used first.
        self._lru: OrderedDict[str, None] = OrderedDict()
        # Unloaded after the drain timeout with calls still running: kept until those calls end, so
        # the runner never meets a request whose adapter is gone.
        self._retired: dict[str, AdapterRecord] = {}
        self._lock = asyncio.Lock()

    # -- what callers see -----------------------------------------------------------------------

    def records(self) -> list[AdapterRecord]:
        return [self._records[name] for name in sorted(self._records)]

    def record(self, name: str) -> AdapterRecord:
        """The registered adapter; NOT_FOUND (with ResourceInfo) when it is not, or is being unloaded."""
        record = self._records.get(name)
        if record is None or record.draining:
            raise NotFound("adapter", f"{self.label}:{name}")
        return record

    # -- lifecycle ------------------------------------------------------------------------------

    async def load(self, name: str, source: str) -> AdapterRecord:
        _check_name(name)
        async with self._lock:
            if name in self._records:
                raise AlreadyExists(f"adapter {name!r} is loaded on {self.label} already")
            if name in self._retired:  # its old weights still serve calls that outlived the drain
                raise AlreadyExists(f"adapter {name!r} of {self.label} still has calls running; retry")
            self._make_room()
            loaded = await asyncio.to_thread(read_adapter, source, self.shapes)
            record = AdapterRecord(
                name=name,
                source=source,
                kind=loaded.kind,
                rank=loaded.rank,
                targets=loaded.targets,
                loaded=None,
            )
            self._records[name] = record
            self._make_resident(record, loaded)
            return record

    async def unload(self, name: str, timeout_s: float) -> int:
        """Refuses new requests, waits for running ones (up to timeout_s), forgets the adapter."""
        record = self.record(name)
        record.draining = True
        in_flight = record.in_flight
        give_up_at = time.monotonic() + timeout_s
        while record.in_flight and time.monotonic() < give_up_at:
            await asyncio.sleep(_DRAIN_POLL_S)
        self._records.pop(name, None)
        self._lru.pop(name, None)
        if record.in_flight:
            log.warning(
                "adapter %s of %s unloaded with %d calls still running", name, self.label, record.in_flight
            )
            self._retired[name] = record
        else:
            record.loaded = None
        return in_flight

    async def acquire(self, name: str) -> None:
        """Marks one generation running with `name`, reading it back from disk if it was evicted."""
        record = self.record(name)
        if record.loaded is None:
            async with self._lock:
                record = self.record(name)  # it may have been unloaded meanwhile
                if record.loaded is None:
                    self._make_room()
                    loaded = await asyncio.to_thread(read_adapter, record.source, self.shapes)
                    self._make_resident(record, loaded)
        record.in_flight += 1
        record.stats.requests += 1
        self._lru.move_to_end(name)

    def release(self, name: str, generated_tokens: int) -> None:
        record = self._retired.get(name) or self._records.get(name)
        if record is not None:
            record.in_flight -= 1
            record.stats.generated_tokens += generated_tokens
            if not record.in_flight and self._retired.get(name) is record:
                del self._retired[name]
                record.loaded = None

    def weights(self, name: str) -> LoraWeights:
        """The resident weights (the runner's lookup; it runs only acquired requests)."""
        record = self._retired.get(name) or self._records[name]
        loaded = record.loaded
        if loaded is None:
            raise KeyError(f"adapter {name!r} is not resident")
        return loaded.weights

    # -- residency ------------------------------------------------------------------------------

    def _make_room(self) -> None:
        """Evicts least recently used idle adapters until one more fits."""
        while len(self._lru) >= self.max_resident:
            idle = next((n for n in self._lru if self._records[n].in_flight == 0), None)
            if idle is None:
                raise QueueFull(
                    _RETRY_S,
                    f"all {self.max_resident} resident adapters of {self.label} are in use; retry shortly"
                    " or raise max_resident_adapters",
                )
            record = self._records[idle]
            record.loaded = None
            record.stats.evictions += 1
            del self._lru[idle]

    def _make_resident(self, record: AdapterRecord, loaded: LoadedAdapter) -> None:
        record.loaded = loaded
        record.stats.loads += 1
        self._lru[record.name] = None
        self._lru.move_to_end(record.name)


def _check_name(name: str) -> None:
    if not name or not set(name) <= _NAME_CHARS:
        raise InvalidArgument.one("name", "an adapter name is letters, digits, '.', '_' or '-'")
