"""A small Python client for Open-AutoGLM over the generated autoglm.v1 stubs (sync and asyncio)."""

from autoglm_client.client import AsyncAutoGLMClient, AutoGLMClient, build_input
from autoglm_client.formats import build_response_format

__all__ = ["AsyncAutoGLMClient", "AutoGLMClient", "build_input", "build_response_format"]
