"""The direction of imports: protocol layers -> the core, never back; no cycle between core packages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL_PACKAGES = {"grpc", "grpc_status", "grpc_health", "autoglm", "autoglm_server", "autoglm_client"}
PROTOCOL_PACKAGES |= {"fastapi", "starlette", "uvicorn"}


def _imports(folder: Path) -> dict[Path, set[str]]:
    """Every module each file under a folder imports (absolute imports only: the project uses no others)."""
    found: dict[Path, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def _offending(folder: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, names in _imports(ROOT / folder).items()
        for name in sorted(names)
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    ]


def test_the_core_knows_no_protocol() -> None:
    assert _offending("autoglm_core", PROTOCOL_PACKAGES) == []


def test_the_in_process_api_does_not_import_the_server() -> None:
    assert _offending("openautoglm", {"autoglm_server", "autoglm_client"}) == []


def test_the_registry_does_not_import_health() -> None:
    # health (the watchdog) drives the registry; the registry only sees a small protocol of the monitor.
    assert _offending("autoglm_core/registry", {"autoglm_core.health"}) == []


def test_the_client_imports_nothing_of_ours_but_the_stubs() -> None:
    ours = {"autoglm_core", "autoglm_server", "openautoglm", "torch", "transformers"}
    assert _offending("clients/python/autoglm_client", ours) == []
