"""autoglm.v1.ModelService: listing, loading and unloading versions and their adapters, and traffic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc

from autoglm.v1 import model_pb2, model_pb2_grpc
from autoglm.v1.generation_pb2 import SamplingParams
from autoglm_core.errors import InvalidArgument, NotFound
from autoglm_core.registry.adapters import VersionAdapters, adapters_of, all_adapters
from autoglm_core.registry.control import ModelControl
from autoglm_core.registry.manager import BackendSpec
from autoglm_core.registry.models import ModelEntry
from autoglm_core.registry.sync import LOADING
from autoglm_core.registry.versions import VersionState
from autoglm_server.errors import unary_errors

if TYPE_CHECKING:  # the store imports torch: a mock server never loads it
    from autoglm_core.adapters.store import AdapterRecord

Context = grpc.aio.ServicerContext[Any, Any]

_STATES = {
    VersionState.LOADING: model_pb2.MODEL_STATE_LOADING,
    VersionState.READY: model_pb2.MODEL_STATE_READY,
    VersionState.FAILED: model_pb2.MODEL_STATE_FAILED,
    VersionState.DRAINING: model_pb2.MODEL_STATE_DRAINING,
}


def model_to_proto(entry: ModelEntry) -> model_pb2.Model:
    versions = []
    for version, backend in sorted(entry.versions.items()):
        info = backend.info
        d = info.default_sampling
        meta = entry.meta.get(version)
        versions.append(
            model_pb2.ModelVersion(
                version=version,
                state=_STATES[entry.state(version)],
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
                metrics=meta.metrics if meta else {},
                supports_thinking=info.supports_thinking,
                device=info.device,
                id=meta.id if meta else "",
            )
        )
    for version, why in sorted(entry.unavailable.items()):
        state = model_pb2.MODEL_STATE_LOADING if why == LOADING else model_pb2.MODEL_STATE_FAILED
        versions.append(
            model_pb2.ModelVersion(
                version=version,
                state=state,
                traffic_weight=entry.weights.get(version, 0),
                status_message=why,
            )
        )
    return model_pb2.Model(name=entry.name, aliases=sorted(entry.aliases), versions=versions)


def adapter_to_proto(where: VersionAdapters, record: AdapterRecord) -> model_pb2.Adapter:
    stats = record.stats
    return model_pb2.Adapter(
        name=record.name,
        model=where.model,
        version=where.version,
        source=record.source,
        kind=record.kind,
        rank=record.rank,
        target_modules=list(record.targets),
        resident=record.resident,
        in_flight=record.in_flight,
        requests=stats.requests,
        generated_tokens=stats.generated_tokens,
        loads=stats.loads,
        evictions=stats.evictions,
    )


class ModelService(model_pb2_grpc.ModelServiceServicer):
    def __init__(self, control: ModelControl) -> None:
        self._control = control
        self._registry = control.registry

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
    async def LoadModel(
        self, request: model_pb2.LoadModelRequest, context: Context
    ) -> model_pb2.LoadModelResponse:
        spec = BackendSpec(
            source=request.source, name=request.name, version=request.version, backend=request.backend
        )
        entry = await self._control.load(spec, metrics=dict(request.metrics))
        return model_pb2.LoadModelResponse(model=model_to_proto(entry))

    @unary_errors
    async def UnloadModel(
        self, request: model_pb2.UnloadModelRequest, context: Context
    ) -> model_pb2.UnloadModelResponse:
        if not request.version:
            raise InvalidArgument.one("version", "name the version to unload")
        timeout = request.drain_timeout_ms / 1000 if request.drain_timeout_ms else None
        drained = await self._control.unload(request.name, request.version, timeout)
        return model_pb2.UnloadModelResponse(drained_calls=drained)

    @unary_errors
    async def SetTrafficSplit(
        self, request: model_pb2.SetTrafficSplitRequest, context: Context
    ) -> model_pb2.SetTrafficSplitResponse:
        entry = await self._control.set_split(request.name, dict(request.weights), request.sticky)
        return model_pb2.SetTrafficSplitResponse(model=model_to_proto(entry))

    @unary_errors
    async def PromoteModelVersion(
        self, request: model_pb2.PromoteModelVersionRequest, context: Context
    ) -> model_pb2.PromoteModelVersionResponse:
        entry = await self._control.promote(request.name, request.version)
        return model_pb2.PromoteModelVersionResponse(model=model_to_proto(entry))

    @unary_errors
    async def RollbackTrafficSplit(
        self, request: model_pb2.RollbackTrafficSplitRequest, context: Context
    ) -> model_pb2.RollbackTrafficSplitResponse:
        entry = await self._control.rollback(request.name)
        return model_pb2.RollbackTrafficSplitResponse(model=model_to_proto(entry))

    @unary_errors
    async def LoadAdapter(
        self, request: model_pb2.LoadAdapterRequest, context: Context
    ) -> model_pb2.LoadAdapterResponse:
        where = adapters_of(self._registry, request.model)
        record = await where.store.load(request.name, request.source)
        return model_pb2.LoadAdapterResponse(adapter=adapter_to_proto(where, record))

    @unary_errors
    async def ListAdapters(
        self, request: model_pb2.ListAdaptersRequest, context: Context
    ) -> model_pb2.ListAdaptersResponse:
        adapters = [
            adapter_to_proto(where, record)
            for where in all_adapters(self._registry, request.model)
            for record in where.store.records()
        ]
        return model_pb2.ListAdaptersResponse(adapters=adapters)

    @unary_errors
    async def UnloadAdapter(
        self, request: model_pb2.UnloadAdapterRequest, context: Context
    ) -> model_pb2.UnloadAdapterResponse:
        """Unloads from the named version, or from every version of the model that has the adapter."""
        if not request.name:
            raise InvalidArgument.one("name", "name the adapter to unload")
        timeout = (
            request.drain_timeout_ms / 1000
            if request.drain_timeout_ms
            else self._control.manager.drain_timeout_s
        )
        holders = [
            where
            for where in all_adapters(self._registry, request.model)
            if any(r.name == request.name and not r.draining for r in where.store.records())
        ]
        if not holders:
            raise NotFound("adapter", f"{request.model or self._registry.default_model}:{request.name}")
        drained = 0
        for where in holders:
            drained += await where.store.unload(request.name, timeout)
        return model_pb2.UnloadAdapterResponse(drained_calls=drained)
