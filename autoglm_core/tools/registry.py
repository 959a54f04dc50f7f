"""The tools a model may call: local Python functions and HTTP APIs registered at run time.

Python tools are declared in code with `@tool` (their JSON schema comes from the type hints and the
Google-style docstring: `schema.py`) and added to a registry with `registry.add(fn)` or
`@registry.tool`. They belong to the server's code, so they cannot be registered or deleted over
gRPC. HTTP tools are data: name, description, JSON schema and how to call the API (`HttpSpec`); they
are validated when registered.
"""

from __future__ import annotations

import re
import string
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload
from urllib.parse import urlsplit

import jsonschema

from autoglm_core.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from autoglm_core.tools.schema import function_schema

# "client": a tool the caller runs itself (its schema comes with the request; never executed here).
ToolKind = Literal["python", "http", "client", "mcp"]
HttpMethod = Literal["GET", "POST"]
HTTP_METHODS: tuple[HttpMethod, ...] = ("GET", "POST")

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_DESCRIPTION_CHARS = 2048
# Header names as RFC 9110 tokens; values come from server-side secrets only.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class HttpSpec:
    """How to call an HTTP tool. Arguments not in the URL template go to the query (GET) or body (POST)."""

    method: HttpMethod
    url_template: str
    # Header name -> name of a server-side secret (setting tool_secrets) whose value is sent.
    secret_headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float | None = None


@dataclass(frozen=True)
class McpToolRef:
    """Where an MCP tool lives: the registered server and the tool's own name there."""

    server: str
    tool: str
    timeout_s: float | None = None  # the server's call timeout, if its registration set one


@dataclass(frozen=True)
class ToolSpec:
    """One tool: what the model sees (name, description, parameters) and how to run it."""

    name: str
    description: str
    parameters: dict[str, Any]
    kind: ToolKind
    http: HttpSpec | None = None
    function: Callable[..., Any] | None = None
    mcp: McpToolRef | None = None

    def openai_schema(self) -> dict[str, Any]:
        """The OpenAI function format that Hugging Face chat templates expect in `tools=`."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def python_spec(fn: Callable[..., Any], name: str | None = None) -> ToolSpec:
    """A ToolSpec for a function: its schema from type hints and docstring (Args: section)."""
    try:
        description, parameters = function_schema(fn)
    except (TypeError, NameError) as error:  # NameError: a hint that names an unknown type
        raise TypeError(f"cannot derive a tool schema for {fn.__name__}: {error}") from error
    spec = ToolSpec(
        name=name or fn.__name__,
        description=description,
        parameters=parameters,
        kind="python",
        function=fn,
    )
    violations = _check_common(spec)
    if violations:
        raise TypeError(f"invalid tool {spec.name!r}: {violations[0].description}")
    return spec


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(*, name: str | None = None) -> Callable[[F], F]: ...
def tool(fn: Any = None, /, *, name: str | None = None) -> Any:
    """Marks a function as a tool (its schema is checked at once); add it to a registry with `add`."""

    def mark(func: F) -> F:
        func.__tool_spec__ = python_spec(func, name)  # type: ignore[attr-defined]
        return func

    return mark(fn) if fn is not None else mark


class ToolRegistry:
    """Tools by name. Thread-safe: gRPC calls and generations read and change it concurrently."""

    def __init__(self, secret_names: Iterable[str] = ()) -> None:
        self._tools: dict[str, ToolSpec] = {}
        self._lock = threading.Lock()
        # Names of server-side secrets that HTTP tools may reference (their values live elsewhere).
        self.secret_names = frozenset(secret_names)

    def add(self, fn: Callable[..., Any], name: str | None = None) -> ToolSpec:
        """Adds a Python tool (a function, marked with `@tool` or not); replaces one of the same name."""
        spec: ToolSpec = getattr(fn, "__tool_spec__", None) or python_spec(fn, name)
        with self._lock:
            current = self._tools.get(spec.name)
            if current is not None and current.kind != "python":
                raise AlreadyExists(f"a {current.kind} tool named {spec.name!r} exists")
            self._tools[spec.name] = spec
        return spec

    def tool(self, fn: F) -> F:
        """Decorator: `@registry.tool` registers a Python function."""
        self.add(fn)
        return fn

    def register_http(self, spec: ToolSpec) -> ToolSpec:
        """Adds an HTTP tool after validating it; field paths are relative to the Tool message."""
        violations = self.http_violations(spec)
        if violations:
            raise InvalidArgument(violations)
        with self._lock:
            if spec.name in self._tools:
                raise AlreadyExists(f"a tool named {spec.name!r} exists; delete it first")
            self._tools[spec.name] = spec
        return spec

    def http_violations(self, spec: ToolSpec, schema_known: bool = True) -> list[FieldViolation]:
        """What is wrong with an HTTP tool (empty when it can be registered). schema_known=False:
        the caller's schema did not parse, so URL placeholders cannot be checked against it."""
        common = _check_common(spec)
        # Placeholders are only checked against a valid schema (one error, not a follow-on one).
        schema_ok = schema_known and not any(v.field == "parameters_json_schema" for v in common)
        return common + _check_http(spec, self.secret_names, schema_ok)

    def get(self, name: str) -> ToolSpec:
        with self._lock:
            spec = self._tools.get(name)
        if spec is None:
            raise NotFound("tool", name)
        return spec

    def specs(self) -> list[ToolSpec]:
        with self._lock:
            return sorted(self._tools.values(), key=lambda s: s.name)

    def delete(self, name: str) -> None:
        with self._lock:
            spec = self._tools.get(name)
            if spec is None:
                raise NotFound("tool", name)
            if spec.kind == "python":
                raise FailedPrecondition(
                    f"tool {name!r} is a Python tool of the server; it cannot be deleted"
                )
            if spec.mcp is not None:
                raise FailedPrecondition(
                    f"tool {name!r} belongs to the MCP server {spec.mcp.server!r}; delete that server"
                )
            del self._tools[name]

    def set_server_tools(self, server: str, specs: Iterable[ToolSpec]) -> None:
        """Replaces the tools of one MCP server (their names, `server.tool`, cannot clash with
        Python or HTTP tools, whose names have no '.')."""
        with self._lock:
            self._drop_server(server)
            self._tools.update({spec.name: spec for spec in specs})

    def remove_server_tools(self, server: str) -> None:
        with self._lock:
            self._drop_server(server)

    def _drop_server(self, server: str) -> None:
        for name in [n for n, s in self._tools.items() if s.mcp is not None and s.mcp.server == server]:
            del self._tools[name]

    def resolve(self, names: Iterable[str], field_name: str = "allowed_tools") -> list[ToolSpec]:
        """The tools named (in order, duplicates dropped); every unknown name is one violation."""
        specs: dict[str, ToolSpec] = {}
        violations: list[FieldViolation] = []
        for i, name in enumerate(names):
            try:
                specs.setdefault(name, self.get(name))
            except NotFound:
                violations.append(FieldViolation(f"{field_name}[{i}]", f"unknown tool {name!r}"))
        if violations:
            raise InvalidArgument(violations)
        return list(specs.values())


def _check_common(spec: ToolSpec) -> list[FieldViolation]:
    v: list[FieldViolation] = []
    if not NAME_PATTERN.match(spec.name):
        v.append(FieldViolation("name", "must be 1 to 64 letters, digits, '_' or '-'"))
    if len(spec.description) > MAX_DESCRIPTION_CHARS:
        v.append(FieldViolation("description", f"at most {MAX_DESCRIPTION_CHARS} characters"))
    v.extend(check_parameters_schema(spec.parameters))
    return v


def check_parameters_schema(schema: Any) -> list[FieldViolation]:
    """The arguments schema must be a valid JSON schema of an object."""
    where = "parameters_json_schema"
    if not isinstance(schema, dict):
        return [FieldViolation(where, "must be a JSON object")]
    if schema.get("type") != "object":
        return [FieldViolation(where, 'must describe an object ("type": "object")')]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        return [FieldViolation(where, f"not a valid JSON schema: {error.message}")]
    return []


def url_placeholders(template: str) -> list[str]:
    """Names of the {arg} placeholders of a URL template (raises ValueError on bad braces)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def _check_http(spec: ToolSpec, secret_names: frozenset[str], schema_ok: bool) -> list[FieldViolation]:
    http = spec.http
    if spec.kind != "http" or http is None:
        return [FieldViolation("kind", "must be TOOL_KIND_HTTP, with http set")]
    v: list[FieldViolation] = []
    if http.method not in HTTP_METHODS:
        v.append(FieldViolation("http.method", "must be HTTP_METHOD_GET or HTTP_METHOD_POST"))
    v.extend(_check_url(http.url_template, spec.parameters if schema_ok else None))
    for header, secret in http.secret_headers.items():
        if not _HEADER_NAME.match(header):
            v.append(FieldViolation(f"http.secret_headers[{header!r}]", "not a valid header name"))
        if secret not in secret_names:
            v.append(FieldViolation(f"http.secret_headers[{header!r}]", f"no server secret {secret!r}"))
    if http.timeout_s is not None and http.timeout_s <= 0:
        v.append(FieldViolation("http.timeout_ms", "must be > 0"))
    return v


def _check_url(template: str, parameters: dict[str, Any] | None) -> list[FieldViolation]:
    where = "http.url_template"
    try:
        names = url_placeholders(template)
        parts = urlsplit(template.replace("{", "").replace("}", ""))
    except ValueError as error:
        return [FieldViolation(where, f"not a valid URL template: {error}")]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [FieldViolation(where, "must be an absolute http:// or https:// URL")]
    # The model must never choose the host: placeholders may appear only after it.
    if "{" in urlsplit(template).netloc or "{" in template.split("//", 1)[0]:
        return [FieldViolation(where, "placeholders are not allowed in the scheme or host")]
    if parts.username or parts.password:
        return [FieldViolation(where, "credentials in the URL are not allowed; use secret_headers")]
    properties = (parameters.get("properties") or {}) if isinstance(parameters, dict) else {}
    unknown = [n for n in names if not n or (parameters is not None and n not in properties)]
    if unknown:
        return [FieldViolation(where, f"placeholders {unknown} are not properties of the parameters schema")]
    return []
