"""What a command prints: a table for people, or JSON (`--output json`) for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf import json_format, message

# A column: its heading and how to read it from a row.
Column = tuple[str, Callable[[Any], object]]


def as_json(value: Any) -> Any:
    """Messages as their JSON form with the proto field names; lists and dicts element-wise."""
    if isinstance(value, message.Message):
        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


def print_json(value: Any) -> None:
    print(json.dumps(as_json(value), indent=2, ensure_ascii=False))


def print_table(rows: Sequence[Any], columns: Sequence[Column]) -> None:
    """Aligned columns under their headings; an empty list prints the headings alone."""
    cells = [[str(read(row)) for _, read in columns] for row in rows]
    headings = [title for title, _ in columns]
    widths = [max(len(line[i]) for line in [headings, *cells]) for i in range(len(columns))]
    for line in [headings, *cells]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def print_fields(pairs: Sequence[tuple[str, object]]) -> None:
    """One `name: value` line per field of a single record."""
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        print(f"{name.ljust(width)}  {value}")


def show(output: str, value: Any, render: Callable[[], None]) -> None:
    """JSON of `value` when asked for, else the human form."""
    if output == "json":
        print_json(value)
    else:
        render()


def fail(text: str) -> None:
    """An error as one line, whatever line breaks the message holds."""
    print(f"autoglm: {' '.join(text.split())}", file=sys.stderr)
