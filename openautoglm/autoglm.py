"""The AutoGLM class: a blocking facade over the engine, built by the same container as the server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, Literal, TypeVar

from autoglm_core.generation.engine import Engine
from autoglm_core.generation.types import GenerationEvent, GenerationParams, GenerationResult
from autoglm_core.structured.formats import response_format_from_python
from autoglm_core.wiring.container import Container, build_container, load_configured_model
from autoglm_core.wiring.settings import Settings

T = TypeVar("T")


class AutoGLM:
    """A model with thinking mode and tools, used in-process.

    The engine runs on a private event loop in a background thread, so `generate` can be called
    from plain synchronous code (and from several threads at once: calls are batched together).
    """

    def __init__(
        self,
        model_path: str = "openautoglm-base-v1",
        *,
        enable_thinking: bool = False,
        tool_router: Callable[..., Any]
        | Iterable[Callable[..., Any]]
        | dict[str, Callable[..., Any]]
        | None = None,
        backend: Literal["transformers", "mock"] = "transformers",
        device: str = "auto",
        **settings: Any,
    ) -> None:
        self.enable_thinking = enable_thinking
        self.settings = Settings(backend=backend, model=model_path, device=device, **settings)
        self.container: Container = build_container(self.settings)
        # The seed's `tool_router`: functions (or a name -> function mapping) the model may call.
        self.tool_names = self._register_tools(tool_router)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="autoglm-engine", daemon=True)
        self._thread.start()
        self.engine: Engine = self._call(self._load())

    async def _load(self) -> Engine:
        await load_configured_model(self.container, self.settings)
        engine: Engine = self.container.engine()
        return engine

    def _register_tools(self, tools: Any) -> list[str]:
        if tools is None:
            return []
        registry = self.container.tools().registry
        if isinstance(tools, dict):
            return [registry.add(fn, name).name for name, fn in tools.items()]
        if callable(tools):
            tools = [tools]
        return [registry.add(fn).name for fn in tools]

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    def _params(self, prompt: str | list[dict[str, Any]], options: dict[str, Any]) -> GenerationParams:
        if options.get("response_format") is not None:
            # The same forms the Python client takes.
            options["response_format"] = response_format_from_python(options["response_format"])
        options.setdefault("thinking", self.enable_thinking)
        options.setdefault("allowed_tools", list(self.tool_names))
        if isinstance(prompt, str):
            return GenerationParams(prompt=prompt, **options)
        return GenerationParams(messages=list(prompt), **options)

    def generate(self, prompt: str | list[dict[str, Any]], **options: Any) -> GenerationResult:
        """Generates an answer; options are GenerationParams fields (max_new_tokens, temperature,
        stop, seed, thinking, allowed_tools, session_id, ...). Printing the result shows the
        reasoning steps and the answer; its fields hold them separately.

        `response_format=` a JSON Schema dict, a pydantic model class or {"type": "regex", ...}
        constrains the answer; `result.parsed` is then the JSON value (an instance of the pydantic
        model when one was given), or None when the document is incomplete."""
        model_class = options.get("response_format")
        result = self._call(self.engine.generate(self._params(prompt, options)))
        if result.parsed is not None and isinstance(model_class, type):
            result.parsed = model_class.model_validate(result.parsed)  # type: ignore[attr-defined]
        return result

    def stream(self, prompt: str | list[dict[str, Any]], **options: Any) -> Iterator[GenerationEvent]:
        """Yields engine events (ReasoningDelta, ContentDelta, ToolCall*, Finished) as they come."""
        params = self._params(prompt, options)
        events = self.engine.stream(params)
        try:
            while True:
                try:
                    yield self._call(anext(events))  # type: ignore[arg-type]
                except StopAsyncIteration:
                    return
        finally:
            self._call(events.aclose())

    def close(self) -> None:
        """Frees the model, ends MCP sessions and stops the engine's thread."""
        for backend in self.engine.registry.backends():
            self._call(backend.close())
        if self.engine.tools is not None:
            self._call(self.engine.tools.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> AutoGLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
