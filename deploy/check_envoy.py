#!/usr/bin/env python3
"""Checks an Envoy bootstrap YAML against Envoy's own v3 API (the protobuf messages of xds-protos).

Usage: PYTHONPATH=<dir with xds-protos> check_envoy.py deploy/envoy/envoy.yaml
Unknown fields, wrong types and unknown enum values fail, as they would fail Envoy at start-up
(its extra validation rules, such as required fields, are not applied). xds-protos is kept out of
the project's environment on purpose: it ships its own copies of google.rpc and
opentelemetry.proto modules, which would overwrite the ones the server uses.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format


def import_any_types(doc: Any) -> None:
    """Imports the generated modules of every typed_config's "@type", so Any fields can be parsed."""
    if isinstance(doc, dict):
        url = doc.get("@type")
        if isinstance(url, str):
            package = url.rsplit("/", 1)[1].rsplit(".", 1)[0]
            module = importlib.import_module(package)
            for info in pkgutil.iter_modules(module.__path__):
                if info.name.endswith("_pb2"):
                    importlib.import_module(f"{package}.{info.name}")
        for value in doc.values():
            import_any_types(value)
    elif isinstance(doc, list):
        for value in doc:
            import_any_types(value)


def main(argv: list[str]) -> int:
    from envoy.config.bootstrap.v3 import bootstrap_pb2  # type: ignore[import-not-found]

    path = Path(argv[1] if len(argv) > 1 else "deploy/envoy/envoy.yaml")
    doc = yaml.safe_load(path.read_text())
    try:
        import_any_types(doc)
        config = json_format.ParseDict(doc, bootstrap_pb2.Bootstrap())
    except (json_format.ParseError, ImportError) as error:
        print(f"{path}: invalid: {error}", file=sys.stderr)
        return 1
    resources = config.static_resources
    counts = f"{len(resources.listeners)} listeners, {len(resources.clusters)} clusters"
    print(f"{path}: valid Envoy v3 bootstrap ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
