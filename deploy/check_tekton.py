#!/usr/bin/env python3
"""Cross-checks Tekton Pipelines and Tasks as Tekton's admission webhook would: every taskRef names a
Task, runAfter names tasks of the pipeline, params and workspaces passed to a task are the ones the
Task declares (and the ones it requires are passed), and $(tasks.X.results.Y) names a declared result.

Tekton's CRD schemas are not published in any registry reachable here (PyPI, npm, Debian), so this
structural check stands in for a schema check (deploy/schemas/README.md).
"""

from __future__ import annotations

import re
from typing import Any

RESULT_REF = re.compile(r"\$\(tasks\.([\w-]+)\.results\.([\w-]+)\)")
PIPELINE_KEYS = {"description", "params", "workspaces", "tasks", "finally", "results", "displayName"}
TASK_KEYS = {
    "description",
    "params",
    "workspaces",
    "results",
    "steps",
    "volumes",
    "sidecars",
    "stepTemplate",
    "displayName",
}
PIPELINE_TASK_KEYS = {
    "name",
    "taskRef",
    "taskSpec",
    "params",
    "workspaces",
    "runAfter",
    "when",
    "retries",
    "timeout",
    "displayName",
    "description",
}


def _names(items: list[dict[str, Any]] | None) -> set[str]:
    return {item["name"] for item in items or []}


def _required_params(task: dict[str, Any]) -> set[str]:
    return {p["name"] for p in task["spec"].get("params", []) if "default" not in p}


def _check_task(task: dict[str, Any]) -> list[str]:
    name = task["metadata"]["name"]
    spec = task.get("spec", {})
    errors = [f"Task {name}: unknown field spec.{key}" for key in sorted(set(spec) - TASK_KEYS)]
    if not spec.get("steps"):
        errors.append(f"Task {name}: no steps")
    return errors


def _check_pipeline_task(
    entry: dict[str, Any],
    pipeline: str,
    tasks: dict[str, dict[str, Any]],
    siblings: dict[str, dict[str, Any]],
) -> list[str]:
    where = f"Pipeline {pipeline}, task {entry.get('name')}"
    errors = [f"{where}: unknown field {key}" for key in sorted(set(entry) - PIPELINE_TASK_KEYS)]
    ref = entry.get("taskRef", {}).get("name")
    task = tasks.get(ref or "")
    if task is None:
        return [*errors, f"{where}: taskRef {ref!r} is not a Task here"]
    declared = _names(task["spec"].get("params"))
    passed = _names(entry.get("params"))
    errors += [f"{where}: param {p!r} is not declared by Task {ref}" for p in sorted(passed - declared)]
    errors += [
        f"{where}: required param {p!r} of Task {ref} is not passed"
        for p in sorted(_required_params(task) - passed)
    ]
    bound = _names(entry.get("workspaces"))
    wanted = _names(task["spec"].get("workspaces"))
    errors += [f"{where}: workspace {w!r} is not declared by Task {ref}" for w in sorted(bound - wanted)]
    errors += [f"{where}: workspace {w!r} of Task {ref} is not bound" for w in sorted(wanted - bound)]
    errors += [
        f"{where}: runAfter {r!r} is not a task of the pipeline"
        for r in entry.get("runAfter", [])
        if r not in siblings
    ]
    for value in (p.get("value", "") for p in entry.get("params", [])):
        for source, result in RESULT_REF.findall(str(value)):
            source_task = tasks.get(siblings.get(source, {}).get("taskRef", {}).get("name", ""))
            if source_task is None or result not in _names(source_task["spec"].get("results")):
                errors.append(f"{where}: $(tasks.{source}.results.{result}) is not a declared result")
    return errors


def check(docs: list[dict[str, Any]]) -> list[str]:
    """Returns the problems found in the Tekton documents among docs (empty: all consistent)."""
    tasks = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Task"}
    errors = [e for task in tasks.values() for e in _check_task(task)]
    for pipeline in (d for d in docs if d.get("kind") == "Pipeline"):
        name = pipeline["metadata"]["name"]
        spec = pipeline.get("spec", {})
        errors += [f"Pipeline {name}: unknown field spec.{key}" for key in sorted(set(spec) - PIPELINE_KEYS)]
        siblings = {t["name"]: t for t in spec.get("tasks", [])}
        for entry in spec.get("tasks", []):
            errors += _check_pipeline_task(entry, name, tasks, siblings)
        workspaces = _names(spec.get("workspaces"))
        for entry in spec.get("tasks", []):
            for binding in entry.get("workspaces", []):
                if binding.get("workspace") not in workspaces:
                    errors.append(f"Pipeline {name}: workspace {binding.get('workspace')!r} is not declared")
    return errors
