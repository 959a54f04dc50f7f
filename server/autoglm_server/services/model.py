"""autoglm.v1.ModelService."""

from __future__ import annotations

from typing import Any

import grpc

from autoglm.v1 import model_pb2, model_pb2_grpc
from autoglm.v1.generation_pb2 import SamplingParams
from autoglm_core.registry.models import ModelEntry, ModelRegistry
from autoglm_server.errors import unary_errors

Context = grpc.aio.ServicerContext[Any, Any]


def model_to_proto(entry: ModelEntry) -> model_pb2.Model:
    versions = []
    for version, backend in sorted(entry.versions.items()):
        info = backend.info
        d = info.default_sampling
        versions.append(
            model_pb2.ModelVersion(
                version=version,
                state=model_pb2.MODEL_STATE_READY,
                backend=info.backend,
                source=info.source,
                context_length=info.context_length,
                eos_token_ids=list(info.eos_token_ids),
                default_sampling=SamplingParams(
                    temperature=d.temperature,
                    top_p=d.top_p,
                    top_k=d.top_k,
                    max_new_tokens=d.max_new_tokens,
                    repetition_penalty=d.repetition_penalty,
                ),
                traffic_weight=entry.weights.get(version, 0),
                supports_thinking=info.supports_thinking,
                device=info.device,
            )
        )
    return model_pb2.Model(name=entry.name, aliases=sorted(entry.aliases), versions=versions)


class ModelService(model_pb2_grpc.ModelServiceServicer):
    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    @unary_errors
    async def ListModels(
        self, request: model_pb2.ListModelsRequest, context: Context
    ) -> model_pb2.ListModelsResponse:
        return model_pb2.ListModelsResponse(
            models=[model_to_proto(e) for e in self._registry.entries()],
            default_model=self._registry.default_model,
        )

    @unary_errors
    async def GetModel(
        self, request: model_pb2.GetModelRequest, context: Context
    ) -> model_pb2.GetModelResponse:
        return model_pb2.GetModelResponse(model=model_to_proto(self._registry.entry(request.name)))

    @unary_errors
    async def SetTrafficSplit(
        self, request: model_pb2.SetTrafficSplitRequest, context: Context
    ) -> model_pb2.SetTrafficSplitResponse:
        entry = self._registry.set_weights(request.name, dict(request.weights), request.sticky)
        return model_pb2.SetTrafficSplitResponse(model=model_to_proto(entry))
