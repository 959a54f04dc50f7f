"""Tools: registry, router, HTTP and Python tools, and parsers for the tool calls models write.

- `registry`: ToolSpec, `@tool` (schema from type hints and docstring), ToolRegistry.
- `builtin`: the example Python tools every server has (convert_units, get_time).
- `http`: HTTP tool calls with SSRF protection, a size cap and a timeout.
- `mcp`: MCP servers (streamable HTTP or stdio) whose tools are registered as `server.tool`.
- `untrusted`: the delimiters around external tools' output in the prompt.
- `executor`: argument validation and execution; failures become errors fed back to the model.
- `parsers`: streaming tool-call parsers (Hermes, GLM-4.5, prompted JSON).
- `router`: the pre-generation router for models too small to call tools.
- `agent`: ToolBox (what the engine's agent loop uses) and the chat messages of tool turns.
"""
