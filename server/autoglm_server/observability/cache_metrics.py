"""Prometheus metrics of the response cache, read from its counters when Prometheus scrapes."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autoglm_core.cache import ResponseCache


class ResponseCacheCollector(Collector):
    """Hits, misses, bypasses, evictions and invalidations; entries, bytes and compression ratio."""

    def __init__(self, cache: ResponseCache) -> None:
        self._cache = cache

    def collect(self) -> Iterable[Metric]:
        s = self._cache.stats()
        counters = {
            "hits": ("Requests answered from the response cache.", s.hits),
            "misses": ("Cacheable requests the response cache did not hold.", s.misses),
            "bypasses": (
                "Requests that could not use the response cache (not deterministic, a "
                "session, server tools, cache off).",
                s.bypasses,
            ),
            "stores": ("Answers stored in the response cache.", s.stores),
            "evictions": ("Entries dropped to stay within the response cache's byte bound.", s.evictions),
            "invalidations": (
                "Entries dropped because their model version was loaded, promoted or rolled back.",
                s.invalidations,
            ),
        }
        for name, (doc, value) in counters.items():
            yield CounterMetricFamily(f"autoglm_response_cache_{name}", doc, value=value)
        yield GaugeMetricFamily("autoglm_response_cache_entries", "Answers held.", value=s.entries)
        yield GaugeMetricFamily(
            "autoglm_response_cache_bytes", "Memory counted against the byte bound.", value=s.bytes
        )
        yield GaugeMetricFamily(
            "autoglm_response_cache_compression_ratio",
            "Uncompressed over LZ4-compressed bytes of the answers held.",
            value=s.ratio,
        )
