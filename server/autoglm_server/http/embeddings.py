"""POST /v1/embeddings: all-MiniLM-L6-v2 (384 dimensions, unit length), the model shipped for
knowledge search. Vectors come as floats or, as the SDKs ask by default, base64 of float32."""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Request
from pydantic import BaseModel

from autoglm_core.errors import InvalidArgument
from autoglm_server.http.auth import CallerDep, context_of

router = APIRouter()
MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_INPUTS = 2048


class EmbeddingRequest(BaseModel):
    input: str | list[Any]
    model: str = MODEL
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None


def _texts(given: str | list[Any]) -> list[str]:
    texts = [given] if isinstance(given, str) else given
    if not texts or len(texts) > MAX_INPUTS:
        raise InvalidArgument.one("input", f"must hold 1 to {MAX_INPUTS} texts")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text:
            raise InvalidArgument.one(
                f"input[{i}]", "must be a non-empty string (token arrays are not supported)"
            )
    return texts


def _check(body: EmbeddingRequest) -> list[str]:
    if body.model not in (MODEL, MODEL.lower(), f"sentence-transformers/{MODEL}"):
        raise InvalidArgument.one("model", f"the embedding model served is {MODEL!r}")
    if body.dimensions is not None and body.dimensions != DIMENSIONS:
        raise InvalidArgument.one("dimensions", f"{MODEL} has {DIMENSIONS} dimensions")
    return _texts(body.input)


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingRequest, request: Request, who: CallerDep) -> dict[str, Any]:
    texts = _check(body)
    embedder = context_of(request).embedder()
    # Blocking torch work: a thread keeps the event loop (and every stream) running.
    vectors = await asyncio.to_thread(embedder.embed, texts)
    tokens = await asyncio.to_thread(embedder.count_tokens, texts)
    data = []
    for i, vector in enumerate(vectors):
        value: Any = vector.tolist()
        if body.encoding_format == "base64":
            value = base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
        data.append({"object": "embedding", "index": i, "embedding": value})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": MODEL, "usage": usage}
