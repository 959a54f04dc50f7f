"""The Python client of Open-AutoGLM over the generated autoglm.v1 stubs (sync and asyncio).

Every RPC of every service has a method; failed calls raise typed errors (`autoglm_client.errors`)
that carry the server's google.rpc details. Depends on grpcio and the stubs only, never on torch.
"""

from autoglm_client import errors
from autoglm_client.aio import AsyncAutoGLMClient
from autoglm_client.client import AutoGLMClient
from autoglm_client.errors import AutoGLMError, from_rpc_error
from autoglm_client.formats import build_response_format
from autoglm_client.messages import build_input, http_tool, mcp_http_server, mcp_stdio_server
from autoglm_client.replicas import SERVICE_CONFIG, channel_options, channel_target
from autoglm_client.streams import AsyncStream, Stream

__all__ = [
    "SERVICE_CONFIG",
    "AsyncAutoGLMClient",
    "AsyncStream",
    "AutoGLMClient",
    "AutoGLMError",
    "Stream",
    "build_input",
    "build_response_format",
    "channel_options",
    "channel_target",
    "errors",
    "from_rpc_error",
    "http_tool",
    "mcp_http_server",
    "mcp_stdio_server",
]
