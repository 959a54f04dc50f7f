"""`make validate-deploy`'s manifest check (deploy/validate_manifests.py): every shipped overlay and
GitOps directory passes, and an overlay with a wrong field fails, for each kind of schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.unit.deploy_support import (
    DEPLOY,
    GITOPS,
    K8S_VERSION,
    OVERLAYS,
    needs_crd_schemas,
    render,
    validator,
)

SHIPPED = [DEPLOY / "k8s" / "overlays" / name for name in OVERLAYS] + [
    DEPLOY / "gitops" / name for name in GITOPS
]


@pytest.mark.parametrize("directory", SHIPPED, ids=lambda d: f"{d.parent.name}/{d.name}")
def test_shipped_manifests_are_valid(directory: Path) -> None:
    needs_crd_schemas()
    docs = render(directory)
    assert docs
    assert validator().validate(docs, K8S_VERSION) == []


def _overlay_with(tmp_path: Path, base: Path, patch: dict[str, object], ops: list[dict[str, object]]) -> Path:
    """A Kustomize overlay on a shipped directory that applies one JSON patch (what a careless edit does)."""
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(base, tmp_path)],
        "patches": [{"target": patch, "patch": yaml.safe_dump(ops)}],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return tmp_path


WRONG = {
    "core kind, unknown field": (
        "k8s/overlays/prod",
        {"kind": "Deployment", "name": "autoglm-v1"},
        [{"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolice", "value": "Always"}],
        "imagePullPolice",
    ),
    "core kind, wrong type": (
        "k8s/overlays/edge",
        {"kind": "Deployment", "name": "autoglm-v1"},
        [{"op": "replace", "path": "/spec/replicas", "value": "one"}],
        "'one' is not of type 'integer'",
    ),
    "Istio, wrong type": (
        "k8s/overlays/prod",
        {"kind": "VirtualService", "name": "autoglm"},
        [{"op": "replace", "path": "/spec/http/0/route/1/weight", "value": "20%"}],
        "weight must be integer",
    ),
    "Istio, missing required field": (
        "k8s/overlays/prod",
        {"kind": "VirtualService", "name": "autoglm"},
        [{"op": "remove", "path": "/spec/http/0/route/0/destination"}],
        "must have required property destination",
    ),
    "Argo CD, wrong type": (
        "gitops/argocd",
        {"kind": "Application", "name": "autoglm"},
        [{"op": "replace", "path": "/spec/syncPolicy/automated/selfHeal", "value": "yes"}],
        "selfHeal must be boolean",
    ),
    "Tekton, unknown task": (
        "gitops/tekton",
        {"kind": "Pipeline", "name": "autoglm-release"},
        [{"op": "replace", "path": "/spec/tasks/2/runAfter", "value": ["tests"]}],
        "runAfter 'tests' is not a task of the pipeline",
    ),
    "Tekton, undeclared param": (
        "gitops/tekton",
        {"kind": "Pipeline", "name": "autoglm-release"},
        [{"op": "add", "path": "/spec/tasks/3/params/-", "value": {"name": "tagg", "value": "x"}}],
        "param 'tagg' is not declared",
    ),
}


@pytest.mark.parametrize("case", WRONG)
def test_an_overlay_with_a_wrong_field_fails(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    needs_crd_schemas()
    base, target, ops, message = WRONG[case]
    directory = _overlay_with(tmp_path, DEPLOY / base, target, ops)
    errors = validator().validate(render(directory), K8S_VERSION)
    assert any(message in error for error in errors), errors
    # The command line `make validate-deploy` runs says so and exits 1.
    assert validator().main([str(directory)]) == 1
    assert message in capsys.readouterr().out


def test_a_custom_kind_without_a_schema_fails(tmp_path: Path) -> None:
    (tmp_path / "thing.yaml").write_text(
        yaml.safe_dump({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}})
    )
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["thing.yaml"]}))
    errors = validator().validate(render(tmp_path), K8S_VERSION)
    assert errors == ["Thing (example.com/v1): no schema to check it against"]
