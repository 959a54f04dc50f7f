"""What the HTTP routes share: the engine and the stores the gRPC services use, and readiness."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from autoglm_core.generation.engine import Engine
from autoglm_core.memory.embedding import Embedder, MiniLMEmbedder
from autoglm_core.memory.responses import ResponseStore
from autoglm_core.users.ratelimit import Limiter
from autoglm_core.users.store import UserStore


@dataclass
class ApiContext:
    engine: Engine
    users: UserStore
    limiter: Limiter
    auth_enabled: bool
    responses: ResponseStore
    # The knowledge cache's MiniLM when the server has one (one model in memory), else None.
    shared_embedder: Embedder | None = None
    # False until the model is loaded and again while draining: /v1 answers 503.
    ready: bool = False
    # Responses being generated, by id: POST /v1/responses/{id}/cancel sets the event.
    running: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    _embedder: MiniLMEmbedder | None = None
    _embedder_lock: threading.Lock = field(default_factory=threading.Lock)

    def embedder(self) -> MiniLMEmbedder:
        """MiniLM for /v1/embeddings: the shared one, or one of our own loaded on first use."""
        if isinstance(self.shared_embedder, MiniLMEmbedder):
            return self.shared_embedder
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = MiniLMEmbedder()
            return self._embedder
