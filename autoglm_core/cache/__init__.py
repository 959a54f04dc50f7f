"""The response cache: deterministic repeat requests answered from LZ4-compressed stored events.

- keys.py: when a request may be cached, and the hash of everything that determines its output
- codec.py: a stream's events to LZ4-compressed bytes and back
- store.py: the entries, bounded by bytes, least recently used first out, with a time to live
- replay.py: the engine's hook: look up, replay a hit, record a miss
"""

from autoglm_core.cache.replay import CacheLookup, ResponseCache
from autoglm_core.cache.store import CacheStats

__all__ = ["CacheLookup", "CacheStats", "ResponseCache"]
