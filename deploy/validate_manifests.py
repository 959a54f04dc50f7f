#!/usr/bin/env python3
"""Renders Kustomize directories and validates every manifest they produce.

Usage: validate_manifests.py [--k8s-version 1.30.0] DIR...

- core kinds (apps/v1, v1, autoscaling/v2, policy/v1, ...) against the Kubernetes API schema,
  strict: an unknown field fails (kubernetes-validate);
- Argo CD and Istio kinds against their projects' published CRD schemas (deploy/check_crds.mjs,
  on the npm packages in package.json);
- Tekton kinds by a structural cross-check (deploy/check_tekton.py: no schema is published here);
- any other custom kind fails: nothing here could check it.

Rendering uses `kubectl kustomize` (or a `kustomize` binary when kubectl is missing).
Prints one line per directory and the problems found; exits 1 if any.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import check_tekton  # noqa: E402  (a sibling script, not a package)

CRD_GROUPS = {"argoproj.io", "networking.istio.io"}
TEKTON_GROUP = "tekton.dev"


def render(directory: Path) -> list[dict[str, Any]]:
    """The manifests `kustomize build` makes of a directory."""
    if shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(directory)]
    elif shutil.which("kustomize"):
        command = ["kustomize", "build", str(directory)]
    else:
        raise SystemExit("neither kubectl nor kustomize is installed: cannot render the overlays")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ValueError(f"kustomize failed: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def group_of(doc: dict[str, Any]) -> str:
    api_version = str(doc.get("apiVersion", ""))
    return api_version.split("/")[0] if "/" in api_version else ""


def is_core(doc: dict[str, Any]) -> bool:
    """Kinds of Kubernetes itself: no group, or a group without a dot, or a *.k8s.io group."""
    group = group_of(doc)
    return "." not in group or group.endswith(".k8s.io")


def check_core(docs: list[dict[str, Any]], k8s_version: str) -> list[str]:
    import kubernetes_validate

    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, k8s_version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
            name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            errors.append(f"{name}: {getattr(error, 'message', error)}")
    return errors


def check_crds(docs: list[dict[str, Any]]) -> list[str]:
    if not docs:
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(docs, handle)
        handle.flush()
        done = subprocess.run(
            ["node", str(HERE / "check_crds.mjs"), handle.name], capture_output=True, text=True, check=False
        )
    if done.returncode == 0:
        return []
    failures = [line[6:] for line in done.stdout.splitlines() if line.startswith("FAIL")]
    return failures or [f"check_crds.mjs failed: {done.stderr.strip()}"]


def validate(docs: list[dict[str, Any]], k8s_version: str) -> list[str]:
    """Every problem found in a rendered set of manifests (empty: all valid)."""
    core = [d for d in docs if is_core(d)]
    crds = [d for d in docs if group_of(d) in CRD_GROUPS]
    tekton = [d for d in docs if group_of(d) == TEKTON_GROUP]
    known = {id(d) for d in core + crds + tekton}
    unknown = [
        f"{d.get('kind')} ({d.get('apiVersion')}): no schema to check it against"
        for d in docs
        if id(d) not in known
    ]
    return check_core(core, k8s_version) + check_crds(crds) + check_tekton.check(tekton) + unknown


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k8s-version", default="1.30.0")
    parser.add_argument("directories", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = 0
    for directory in args.directories:
        try:
            docs = render(directory)
            errors = validate(docs, args.k8s_version)
        except ValueError as error:
            docs, errors = [], [str(error)]
        kinds = sorted({str(d.get("kind")) for d in docs})
        print(f"{'ok  ' if not errors else 'FAIL'}  {directory}: {len(docs)} manifests ({', '.join(kinds)})")
        for error in errors:
            print(f"      {error}")
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
