"""MCP tool servers in the agent loop, through the official `mcp` SDK.

- `spec`: a server's registration (streamable HTTP or stdio) and its checks (stdio allowlist).
- `network`: the SDK's HTTP client under the SSRF rules of HTTP tools (checked after DNS, per request).
- `connection`: one server's pooled session, reconnected when it breaks; calls and their cancellation.
- `results`: an MCP tool result as a JSON value (isError results become the call's error).
- `manager`: the registered servers; their tools published in the registry as `server.tool`.
"""
