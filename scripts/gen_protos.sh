#!/usr/bin/env bash
# Regenerates every committed stub from protos/. CI runs this and fails on any diff.
set -euo pipefail
cd "$(dirname "$0")/.."
out=clients/python
rm -f "$out"/autoglm/v1/*_pb2*.py "$out"/autoglm/v1/*_pb2*.pyi
python -m grpc_tools.protoc -Iprotos \
  --python_out="$out" --grpc_python_out="$out" \
  --mypy_out="$out" --mypy_grpc_out="$out" \
  protos/autoglm/v1/*.proto
if [ -x clients/node/gen.sh ]; then clients/node/gen.sh; fi
if [ -x clients/java/gen.sh ]; then clients/java/gen.sh; fi
if [ -x clients/go/gen.sh ]; then clients/go/gen.sh; fi
