"""A small Python client for Open-AutoGLM over the generated autoglm.v1 stubs (sync and asyncio)."""

from autoglm_client.client import AsyncAutoGLMClient, AutoGLMClient, build_input

__all__ = ["AsyncAutoGLMClient", "AutoGLMClient", "build_input"]
