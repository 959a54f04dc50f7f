"""The deployment files as a cluster would get them: Kustomize directories rendered with the same
code as `make validate-deploy` (deploy/validate_manifests.py)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ["dev", "prod", "edge"]
GITOPS = ["argocd", "tekton"]
K8S_VERSION = "1.30.0"  # the oldest release these manifests target (gRPC probes GA 1.27, preStop sleep 1.30)


def validator() -> ModuleType:
    """deploy/validate_manifests.py, loaded from its file (deploy/ is not a package)."""
    if "validate_manifests" not in sys.modules:
        spec = importlib.util.spec_from_file_location("validate_manifests", DEPLOY / "validate_manifests.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["validate_manifests"] = module
        spec.loader.exec_module(module)
    return sys.modules["validate_manifests"]


def needs_kustomize() -> None:
    if not (shutil.which("kubectl") or shutil.which("kustomize")):
        pytest.skip("neither kubectl nor kustomize is installed (make validate-deploy needs one)")


def needs_crd_schemas() -> None:
    if not (ROOT / "node_modules" / "@kubernetes-models" / "istio").is_dir():
        pytest.skip("the CRD schema packages are not installed: run make validate-deploy (npm ci)")


@cache
def _rendered(directory: Path) -> tuple[dict[str, Any], ...]:
    return tuple(validator().render(directory))


def render(directory: Path) -> list[dict[str, Any]]:
    """The manifests of a Kustomize directory (rendered once per test session)."""
    needs_kustomize()
    return list(_rendered(directory))


def overlay(name: str) -> list[dict[str, Any]]:
    return render(DEPLOY / "k8s" / "overlays" / name)


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    for doc in docs:
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name):
            return doc
    raise AssertionError(f"no {kind} {name or ''} rendered")


def all_of(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]
