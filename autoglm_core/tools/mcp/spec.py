"""What an MCP server registration says, and what is wrong with one.

An MCP server is reached over streamable HTTP (a URL, with headers whose values are server-side
secrets) or over stdio (an executable the operator put on the allowlist, its arguments, and
environment variables whose values are server-side secrets). Nothing else of the server's own
environment reaches a stdio server: the SDK passes only HOME, LOGNAME, PATH, SHELL, TERM and USER.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from autoglm_core.errors import FieldViolation

# A registered server's connection, as ListMcpServers shows it.
State = Literal["connecting", "available", "unavailable", "closed"]
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# MCP tool names (letters, digits, '_', '-', '.'; the spec allows up to 128 characters).
REMOTE_TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass(frozen=True)
class McpHttp:
    """A streamable HTTP server."""

    url: str
    # Header name -> name of a server-side secret (setting tool_secrets) whose value is sent.
    secret_headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class McpStdio:
    """A server the MCP server process starts itself and talks to over stdin/stdout."""

    command: str
    args: tuple[str, ...] = ()
    # Environment variable -> name of a server-side secret whose value it gets.
    secret_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class McpServerSpec:
    """One registered MCP server; its tools are named `<name>.<tool>`."""

    name: str
    http: McpHttp | None = None
    stdio: McpStdio | None = None
    timeout_s: float | None = None  # one call; None: the server's tool timeout

    @property
    def transport(self) -> str:
        return "http" if self.http is not None else "stdio"


def namespaced(server: str, tool: str) -> str:
    """The name a model and ListTools see for an MCP server's tool."""
    return f"{server}.{tool}"


def spec_violations(
    spec: McpServerSpec, secret_names: frozenset[str], stdio_commands: Iterable[str]
) -> list[FieldViolation]:
    """What is wrong with a registration (empty when it can be registered); field paths are
    relative to the McpServer message. The URL's address is checked later, after DNS."""
    v: list[FieldViolation] = []
    if not SERVER_NAME.match(spec.name):
        v.append(FieldViolation("name", "must be 1 to 64 letters, digits, '_' or '-'"))
    if (spec.http is None) == (spec.stdio is None):
        v.append(FieldViolation("transport", "set exactly one of http and stdio"))
    if spec.http is not None:
        v.extend(_http_violations(spec.http, secret_names))
    if spec.stdio is not None:
        v.extend(_stdio_violations(spec.stdio, secret_names, stdio_commands))
    if spec.timeout_s is not None and spec.timeout_s <= 0:
        v.append(FieldViolation("timeout_ms", "must be > 0"))
    return v


def _http_violations(http: McpHttp, secret_names: frozenset[str]) -> list[FieldViolation]:
    v: list[FieldViolation] = []
    try:
        parts = urlsplit(http.url)
        hostname = parts.hostname
    except ValueError as error:
        return [FieldViolation("http.url", f"not a valid URL: {error}")]
    if parts.scheme not in ("http", "https") or not hostname:
        v.append(FieldViolation("http.url", "must be an absolute http:// or https:// URL"))
    elif parts.username or parts.password:
        v.append(FieldViolation("http.url", "credentials in the URL are not allowed; use secret_headers"))
    for header, secret in http.secret_headers.items():
        where = f"http.secret_headers[{header!r}]"
        if not _HEADER_NAME.match(header):
            v.append(FieldViolation(where, "not a valid header name"))
        if secret not in secret_names:
            v.append(FieldViolation(where, f"no server secret {secret!r}"))
    return v


def _stdio_violations(
    stdio: McpStdio, secret_names: frozenset[str], stdio_commands: Iterable[str]
) -> list[FieldViolation]:
    v: list[FieldViolation] = []
    if resolve_command(stdio.command, stdio_commands) is None:
        v.append(
            FieldViolation(
                "stdio.command",
                f"{stdio.command!r} is not an allowed executable (setting mcp_stdio_commands)",
            )
        )
    if any("\0" in a for a in stdio.args):
        v.append(FieldViolation("stdio.args", "must not contain NUL characters"))
    for name, secret in stdio.secret_env.items():
        where = f"stdio.secret_env[{name!r}]"
        if not _ENV_NAME.match(name):
            v.append(FieldViolation(where, "not a valid environment variable name"))
        if secret not in secret_names:
            v.append(FieldViolation(where, f"no server secret {secret!r}"))
    return v


def resolve_command(command: str, allowed: Iterable[str]) -> str | None:
    """The absolute path of command when it is on the operator's allowlist, else None. Both sides
    are resolved the same way (a name through PATH), and the process is started from the path
    that was checked, so a later change of PATH cannot swap the executable."""
    path = _executable(command)
    if path is None:
        return None
    return path if path in {_executable(entry) for entry in allowed} else None


def _executable(command: str) -> str | None:
    if not command or "\0" in command:
        return None
    found = shutil.which(command)
    return os.path.abspath(found) if found else None
