"""An MCP tool result as a plain JSON value for the model and the caller.

Structured content (a tool with an output schema) is the value itself; otherwise one text block is
its text and several blocks are a list. Binary blocks (images, audio) are described, not inlined:
the model reads text. A result the tool marks `isError` is the call's error, fed back to the model.
"""

from __future__ import annotations

import json
from typing import Any

from mcp import types

from autoglm_core.tools.http import ToolCallError


def result_value(result: types.CallToolResult, max_bytes: int) -> Any:
    """The value of a successful result; raises ToolCallError for an error result or one too large."""
    if result.is_error:
        text = " ".join(_text(block) for block in result.content).strip()
        raise ToolCallError(_capped(f"the tool reported an error: {text or '(no details)'}", max_bytes))
    if result.structured_content is not None:
        value: Any = result.structured_content
    else:
        blocks = [_block(block) for block in result.content]
        value = blocks[0] if len(blocks) == 1 else blocks
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > max_bytes:
        raise ToolCallError(f"response too large: {size} bytes, the limit is {max_bytes}")
    return value


def _block(block: types.ContentBlock) -> Any:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        text = getattr(resource, "text", None)
        return {"type": "resource", "uri": str(resource.uri), **({"text": text} if text is not None else {})}
    if isinstance(block, types.ResourceLink):
        return {"type": "resource_link", "uri": str(block.uri), "name": block.name}
    return {"type": block.type, "mime_type": getattr(block, "mime_type", ""), "note": "binary, not shown"}


def _text(block: types.ContentBlock) -> str:
    return block.text if isinstance(block, types.TextContent) else f"[{block.type}]"


def _capped(text: str, max_bytes: int) -> str:
    data = text.encode()
    return text if len(data) <= max_bytes else data[:max_bytes].decode(errors="ignore") + "…"
