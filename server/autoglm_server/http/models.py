"""GET /v1/models and /v1/models/{id}: each served model by name, alias and `name@version`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from autoglm_core.errors import NotFound
from autoglm_server.http.auth import CallerDep, context_of

router = APIRouter()
OWNER = "autoglm"


def _model(model_id: str, root: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": OWNER, "root": root}


def model_ids(request: Request) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in context_of(request).engine.registry.entries():
        names = [entry.name, *sorted(entry.aliases), *(f"{entry.name}@{v}" for v in sorted(entry.versions))]
        out.extend(_model(name, entry.name) for name in names)
    return out


@router.get("/v1/models")
async def list_models(request: Request, who: CallerDep) -> dict[str, Any]:
    return {"object": "list", "data": model_ids(request)}


@router.get("/v1/models/{model_id:path}")
async def get_model(model_id: str, request: Request, who: CallerDep) -> dict[str, Any]:
    for model in model_ids(request):
        if model["id"] == model_id:
            return model
    raise NotFound("model", model_id)
